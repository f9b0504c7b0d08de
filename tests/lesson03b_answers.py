"""Answers to lesson 03b's exercise, right and wrong, importable by worker processes (tests/test_lesson03b.py).

Each answer is (run_lookups, open_connection, lookup), as a student's %%worker_module cell would define them.
"""

from __future__ import annotations

from mplessons.lessons_toolkit import connect

connection = None
address_seen = None


def open_connection(address):
    global connection
    connection = connect(address)


def lookup(key):
    return connection.lookup(key)


def run_lookups(ctx, address, keys):
    with ctx.Pool(2, initializer=open_connection, initargs=(address,)) as pool:
        return pool.map(lookup, keys)


def run_lookups_imap(ctx, address, keys):
    """A right variant: close() + join() instead of with, imap, the default number of workers."""
    pool = ctx.Pool(initializer=open_connection, initargs=[address])
    try:
        return list(pool.imap(lookup, keys))
    finally:
        pool.close()
        pool.join()


def run_lookups_executor(ctx, address, keys):
    """A right variant: ProcessPoolExecutor with the same initializer."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2, mp_context=ctx, initializer=open_connection, initargs=(address,)) as executor:
        return list(executor.map(lookup, keys))


# --- wrong -------------------------------------------------------------------------------------------------


def remember_address(address):
    global address_seen
    address_seen = address


def lookup_connecting_each_time(key):
    return connect(address_seen).lookup(key)


def run_lookups_connecting_each_time(ctx, address, keys):
    with ctx.Pool(2, initializer=remember_address, initargs=(address,)) as pool:
        return pool.map(lookup_connecting_each_time, keys)


def run_lookups_calling_the_initializer(ctx, address, keys):
    with ctx.Pool(2, initializer=open_connection(address)) as pool:
        return pool.map(lookup, keys)


def run_lookups_without_the_comma(ctx, address, keys):
    with ctx.Pool(2, initializer=open_connection, initargs=(address)) as pool:
        return pool.map(lookup, keys)


def run_lookups_passing_a_connection(ctx, address, keys):
    with ctx.Pool(2, initializer=open_connection_from, initargs=(connect(address),)) as pool:
        return pool.map(lookup, keys)


def open_connection_from(conn):
    global connection
    connection = conn


def open_connection_without_global(address):
    connection = connect(address)  # noqa: F841 - the mistake: a local variable
    return connection


def run_lookups_without_global(ctx, address, keys):
    with ctx.Pool(2, initializer=open_connection_without_global, initargs=(address,)) as pool:
        return pool.map(lookup, keys)


def open_connection_badly(address, timeout):
    global connection
    connection = connect(address)


def run_lookups_with_a_failing_initializer(ctx, address, keys):
    with ctx.Pool(2, initializer=open_connection_badly, initargs=(address,)) as pool:
        return pool.map(lookup, keys)


def run_lookups_serially(ctx, address, keys):
    open_connection(address)
    return [lookup(k) for k in keys]


def run_lookups_with_a_lambda(ctx, address, keys):
    with ctx.Pool(2, initializer=lambda: open_connection(address)) as pool:
        return pool.map(lookup, keys)


def lookup_lazily(key):
    global connection
    if connection is None:
        connection = connect(address_seen)
    return connection.lookup(key)


def run_lookups_lazily(ctx, address, keys):
    with ctx.Pool(2, initializer=remember_address, initargs=(address,)) as pool:
        return pool.map(lookup_lazily, keys)


def run_lookups_ignoring_ctx(ctx, address, keys):
    import multiprocessing

    with multiprocessing.get_context(ctx.get_start_method()).Pool(
            2, initializer=open_connection, initargs=(address,)) as pool:
        return pool.map(lookup, keys)
