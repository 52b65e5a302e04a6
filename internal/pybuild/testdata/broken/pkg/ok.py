import os


def ok():
    return os.sep
