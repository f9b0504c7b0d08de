"""Wrong and right answers for lesson 03b's exercise, one connection per worker (see tests/exercise_corpus.py)."""

from exercise_corpus import Answer, Exercise

HEADER = """%%worker_module lesson03b_shop
from mplessons.lessons_toolkit import connect

connection = None
"""

PLAIN = HEADER.replace("%%worker_module lesson03b_shop\n", "")  # the same code without the cell magic

OPEN = """
def open_connection(address):
    global connection
    connection = connect(address)
"""

LOOKUP = """
def lookup(key):
    return connection.lookup(key)
"""

RUN = """
def run_lookups(ctx, address, keys):
    with ctx.Pool(2, initializer=open_connection, initargs=(address,)) as pool:
        return pool.map(lookup, keys)
"""

WITHOUT_GLOBAL = HEADER + """
def open_connection(address):
    connection = connect(address)
""" + LOOKUP + RUN

EXERCISES = {
    1: Exercise(
        wrong=[
            Answer("the connection opened inside the task", HEADER + """
address_seen = None


def open_connection(address):
    global address_seen
    address_seen = address


def lookup(key):
    return connect(address_seen).lookup(key)
""" + RUN, says=("12 connections were opened for 12 lookups", "once per task")),
            Answer("initializer=open_connection(address): the result of a call", HEADER + OPEN + LOOKUP + """
def run_lookups(ctx, address, keys):
    with ctx.Pool(2, initializer=open_connection(address)) as pool:
        return pool.map(lookup, keys)
""", says=("calls it once, here", "initializer=open_connection")),
            Answer("initargs=(address) without the comma", HEADER + OPEN + LOOKUP + """
def run_lookups(ctx, address, keys):
    with ctx.Pool(2, initializer=open_connection, initargs=(address)) as pool:
        return pool.map(lookup, keys)
""", says=("not a tuple", "with the comma")),
            Answer("the global assigned without `global`", WITHOUT_GLOBAL, says=("still None", "global connection")),
            Answer("the same answer checked again, its cell not re-run", WITHOUT_GLOBAL, reset=False,
                   says=("you checked before", "global connection")),
            Answer("the functions in a plain cell, not a %%worker_module", PLAIN + OPEN + LOOKUP + RUN,
                   says=("plain notebook cell", "%%worker_module")),
            Answer("a lambda as the initializer", HEADER + OPEN + LOOKUP + """
def run_lookups(ctx, address, keys):
    with ctx.Pool(2, initializer=lambda: open_connection(address)) as pool:
        return pool.map(lookup, keys)
""", says=("lambda", "works only under fork")),
            Answer("a connection opened here and passed in initargs", HEADER + LOOKUP + RUN + """
def open_connection(conn):
    global connection
    connection = conn


def run_lookups(ctx, address, keys):
    with ctx.Pool(2, initializer=open_connection, initargs=(connect(address),)) as pool:
        return pool.map(lookup, keys)
""", says=("initargs holds a connection you opened here",)),
            Answer("no pool: the lookups run in the notebook", HEADER + OPEN + LOOKUP + """
def run_lookups(ctx, address, keys):
    open_connection(address)
    return [lookup(key) for key in keys]
""", says=("ran here in the notebook",)),
            Answer("the connection opened in run_lookups, a pool without an initializer", HEADER + OPEN + LOOKUP + """
def run_lookups(ctx, address, keys):
    open_connection(address)
    with ctx.Pool(2) as pool:
        return pool.map(lookup, keys)
""", says=("the pool got no initializer", "run_lookups opened it itself")),
            Answer("maxtasksperchild=1: a new worker and connection for every task", HEADER + OPEN + LOOKUP + """
def run_lookups(ctx, address, keys):
    with ctx.Pool(2, initializer=open_connection, initargs=(address,), maxtasksperchild=1) as pool:
        return pool.map(lookup, keys)
""", says=("maxtasksperchild=1 replaces each worker", "connections were opened for 12 lookups")),
            Answer("a ThreadPool with the initializer: threads of the notebook's process", HEADER + OPEN + LOOKUP + """
from multiprocessing.pool import ThreadPool


def run_lookups(ctx, address, keys):
    with ThreadPool(2, initializer=open_connection, initargs=(address,)) as pool:
        return pool.map(lookup, keys)
""", says=("ran here in the notebook", "in threads")),
            Answer("an initializer that raises in every worker", HEADER + LOOKUP + RUN + """
def open_connection(address, timeout):
    global connection
    connection = connect(address)
""", says=("open_connection raised in the workers", "missing 1 required positional argument")),
        ],
        right=[
            Answer("the hidden solution", HEADER + OPEN + LOOKUP + RUN),
            Answer("close() and join(), imap, the default number of workers", HEADER + OPEN + LOOKUP + """
def run_lookups(ctx, address, keys):
    pool = ctx.Pool(initializer=open_connection, initargs=[address])
    try:
        return list(pool.imap(lookup, keys))
    finally:
        pool.close()
        pool.join()
"""),
            Answer("functools.partial as the initializer, no initargs", HEADER + OPEN + LOOKUP + """
import functools


def run_lookups(ctx, address, keys):
    with ctx.Pool(2, initializer=functools.partial(open_connection, address)) as pool:
        return pool.map(lookup, keys)
"""),
            Answer("ProcessPoolExecutor with the same initializer", HEADER + OPEN + LOOKUP + """
from concurrent.futures import ProcessPoolExecutor


def run_lookups(ctx, address, keys):
    with ProcessPoolExecutor(2, mp_context=ctx, initializer=open_connection, initargs=(address,)) as executor:
        return list(executor.map(lookup, keys))
"""),
        ],
    ),
}
