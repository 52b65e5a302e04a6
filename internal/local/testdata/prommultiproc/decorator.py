"""Stands in for the decorator package: the wheelhouse's prometheus_client, repackaged from
Debian's python3-prometheus-client, imports it (Debian unbundled it) without declaring it, and
the wheelhouse lacks it. prometheus_client needs only decorate, for decorators this app does not
use."""
import functools


def decorate(func, caller):
    @functools.wraps(func)
    def fun(*args, **kw):
        return caller(func, *args, **kw)

    return fun
