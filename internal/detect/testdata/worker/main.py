import time

import redis


def loop():
    r = redis.Redis()
    while True:
        r.blpop("jobs")
        time.sleep(1)


if __name__ == "__main__":
    loop()
