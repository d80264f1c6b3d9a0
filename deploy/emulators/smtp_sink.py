"""An SMTP server on loopback for tests: each message it accepts is written to a folder as JSON (envelope,
headers, decoded subject and text). Binds the first free port from a range and prints "READY <port>"."""
import asyncio
import json
import os
import random
import sys
from email import message_from_bytes
from email.policy import default

from aiosmtpd.controller import Controller


class FolderHandler:
    def __init__(self, folder):
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=default)
        body = message.get_body(preferencelist=("plain",))
        self.count += 1
        record = {
            "mailFrom": envelope.mail_from,
            "rcptTos": envelope.rcpt_tos,
            "subject": str(message["subject"]),
            "headers": {k.lower(): str(v) for k, v in message.items()},
            "text": body.get_content() if body else "",
        }
        path = os.path.join(self.folder, f"{self.count:05d}.json")
        with open(path + ".tmp", "w", encoding="utf-8") as out:
            json.dump(record, out, ensure_ascii=False)
        os.replace(path + ".tmp", path)
        return "250 Message accepted for delivery"


def main():
    folder, low, high = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    ports = list(range(low, high + 1))
    random.shuffle(ports)
    for port in ports:
        controller = Controller(FolderHandler(folder), hostname="127.0.0.1", port=port)
        try:
            controller.start()
        except Exception:
            continue
        print(f"READY {port}", flush=True)
        try:
            sys.stdin.read()  # until the test closes our stdin (or dies)
        finally:
            controller.stop()
        return
    print(f"NO_PORT: none free in {low}-{high}", flush=True)
    sys.exit(1)


if __name__ == "__main__":
    main()
