"""A background worker: no HTTP, just periodic work.

Every second it appends a heartbeat line to data/heartbeat.log and prints it. SIGTERM (or
SIGINT) lets the current beat finish and exits with status 0.
"""
import os
import signal
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = os.path.join(HERE, "data")
LOG_FILE = os.path.join(DATA_DIR, "heartbeat.log")
INTERVAL = float(os.environ.get("HEARTBEAT_INTERVAL", "1"))


def main():
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    os.makedirs(DATA_DIR, exist_ok=True)
    version = os.environ.get("PYSHIP_VERSION", "dev")
    beat = 0
    while not stop.is_set():
        beat += 1
        line = "heartbeat %d version=%s time=%s" % (beat, version, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        with open(LOG_FILE, "a") as f:
            f.write(line + "\n")
        print(line, flush=True)
        stop.wait(INTERVAL)
    print("worker stopped after %d heartbeats" % beat, flush=True)


if __name__ == "__main__":
    main()
