"""pyserial's RFC 2217 client, the one esptool uses, against an RFC 2217 server with an ESP ROM loader behind it.

    python3 pyserial_rfc2217_client.py rfc2217://127.0.0.1:PORT NEW_BAUD RESET_DELAY

Steps: open at 115200, pulse DTR/RTS as esptool's classic reset does, holding the strap pin RESET_DELAY seconds
(each change must be acknowledged, or pyserial raises), SYNC, CHANGE_BAUDRATE to NEW_BAUD, switch the port's baud
rate, then READ_REG of the chip-detect word at the new rate. Prints "ok <step> ..." per step and exits 0, or
"fail <step>: <reason>" and exits 1.
"""
import struct
import sys
import time

import serial

SYNC, READ_REG, CHANGE_BAUDRATE = 0x08, 0x0A, 0x0F
SYNC_PAYLOAD = bytes([0x07, 0x07, 0x12, 0x20]) + bytes([0x55] * 32)
CHIP_DETECT_WORD = 0x40001000


def fail(step, reason):
    print(f"fail {step}: {reason}", flush=True)
    sys.exit(1)


def slip(packet):
    body = packet.replace(b"\xdb", b"\xdb\xdd").replace(b"\xc0", b"\xdb\xdc")
    return b"\xc0" + body + b"\xc0"


def request(opcode, payload):
    return slip(struct.pack("<BBHI", 0, opcode, len(payload), 0) + payload)


class Frames:
    """SLIP frames from the port; bytes between frames (a boot banner) are dropped."""

    def __init__(self, port):
        self.port = port
        self.frame = None
        self.ready = []

    def next(self, seconds):
        deadline = time.monotonic() + seconds
        while not self.ready and time.monotonic() < deadline:
            for byte in self.port.read(self.port.in_waiting or 1):
                self.push(byte)
        return self.ready.pop(0) if self.ready else None

    def push(self, byte):
        if byte == 0xC0:
            if self.frame:
                self.ready.append(bytes(self.frame).replace(b"\xdb\xdc", b"\xc0").replace(b"\xdb\xdd", b"\xdb"))
                self.frame = None
            else:
                self.frame = bytearray()
        elif self.frame is not None:
            self.frame.append(byte)


def reply_to(frames, opcode, seconds):
    """The next reply to `opcode` (direction 1, status byte 0 after the value), or None."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        frame = frames.next(deadline - time.monotonic())
        if frame is None:
            return None
        if len(frame) >= 10 and frame[0] == 1 and frame[1] == opcode:
            if frame[8] != 0:
                fail(f"opcode 0x{opcode:02x}", f"the loader answered with status {frame[8:].hex()}")
            return frame
    return None


def main():
    url, new_baud, reset_delay = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    print(f"ok pyserial {serial.VERSION}", flush=True)
    port = serial.serial_for_url(url, baudrate=115200, timeout=0.1)
    print(f"ok open {port.baudrate}", flush=True)

    # esptool's classic reset: EN low with the strap pin high, then the strap pin low while EN rises.
    port.dtr = False
    port.rts = True
    time.sleep(0.1)
    port.dtr = True
    port.rts = False
    time.sleep(reset_delay)
    port.dtr = False
    print("ok lines", flush=True)

    frames = Frames(port)
    deadline = time.monotonic() + 20
    reply = None
    while reply is None and time.monotonic() < deadline:
        port.reset_input_buffer()
        port.write(request(SYNC, SYNC_PAYLOAD))
        reply = reply_to(frames, SYNC, 0.5)
    if reply is None:
        fail("sync", "no SYNC reply within 20 s")
    if reply[4:8] != bytes([0x07, 0x07, 0x12, 0x20]):
        fail("sync", f"unexpected SYNC reply {reply.hex()}")
    replies = 1
    while reply_to(frames, SYNC, 0.3) is not None:
        replies += 1
    print(f"ok sync {replies} replies", flush=True)

    port.write(request(CHANGE_BAUDRATE, struct.pack("<II", new_baud, 0)))
    if reply_to(frames, CHANGE_BAUDRATE, 5) is None:
        fail("change_baudrate", "no reply")
    port.baudrate = new_baud
    time.sleep(0.05)
    port.reset_input_buffer()
    print(f"ok baud {port.baudrate}", flush=True)

    port.write(request(READ_REG, struct.pack("<I", CHIP_DETECT_WORD)))
    reply = reply_to(frames, READ_REG, 5)
    if reply is None:
        fail("read_reg", f"no reply at {new_baud} Bd")
    value = struct.unpack("<I", reply[4:8])[0]
    print(f"ok read_reg 0x{CHIP_DETECT_WORD:08x} = 0x{value:08x}", flush=True)
    port.close()


if __name__ == "__main__":
    try:
        main()
    except serial.SerialException as e:
        fail("serial", e)
