"""Wrong and right answers for lesson 07's exercises (see tests/exercise_corpus.py)."""

from exercise_corpus import Answer, Exercise

EXERCISES = {
    1: Exercise(  # deposit(account, amount), called from four threads at once
        wrong=[
            Answer("no lock at all", """
def deposit(account, amount):
    balance = account.read()
    account.write(balance + amount)
""", says=("lost", "around the read and the write together")),
            Answer("the same definition again: the fixed cell did not run", """
deposit = deposit
""", says=("you checked before", "around the read and the write together"), reset=False),
            Answer("a new lock in every call", """
def deposit(account, amount):
    with threading.Lock():
        balance = account.read()
        account.write(balance + amount)
""", says=("new Lock on every call", "outside the function")),
            Answer("the lock around the read only", """
lock = threading.Lock()

def deposit(account, amount):
    with lock:
        balance = account.read()
    account.write(balance + amount)
""", says=("lost", "around the read and the write together")),
            Answer("writes the amount instead of the new balance", """
lock = threading.Lock()

def deposit(account, amount):
    with lock:
        account.read()
        account.write(amount)
""", says=("expected 22", "plus the amount")),
            Answer("acquires the lock and never releases it", """
lock = threading.Lock()

def deposit(account, amount):
    lock.acquire()
    account.write(account.read() + amount)
""", says=("second call", "never released")),
            Answer("goes around read() and write()", """
lock = threading.Lock()

def deposit(account, amount):
    with lock:
        account._balance += amount
""", says=("account.read()", "account.write(")),
            Answer("a semaphore that lets two threads in", """
two_at_a_time = threading.Semaphore(2)

def deposit(account, amount):
    with two_at_a_time:
        account.write(account.read() + amount)
""", says=("lost",)),
            Answer("no lock, a sleep before each deposit to keep the threads apart (loses little, by chance)", """
import time

def deposit(account, amount):
    time.sleep(0.002 * amount)
    account.write(account.read() + amount)
""", says=("lost", "around the read and the write together")),
            Answer("the lock only around the write", """
lock = threading.Lock()

def deposit(account, amount):
    balance = account.read()
    with lock:
        account.write(balance + amount)
""", says=("lost", "around the read and the write together")),
        ],
        right=[
            Answer("the hidden solution", """
balance_lock = threading.Lock()

def deposit(account, amount):
    with balance_lock:
        balance = account.read()
        account.write(balance + amount)
"""),
            Answer("an RLock, acquire and release in try/finally", """
lock = threading.RLock()

def deposit(account, amount):
    lock.acquire()
    try:
        account.write(account.read() + amount)
    finally:
        lock.release()
"""),
            Answer("a multiprocessing.Lock works between threads too", """
import multiprocessing

one_at_a_time = multiprocessing.Lock()

def deposit(account, amount):
    with one_at_a_time:
        account.write(account.read() + amount)
"""),
            Answer("one thread owns the account, deposits handed to it through a queue.Queue", """
import queue

requests = queue.Queue()

def teller():
    while True:
        account, amount, done = requests.get()
        account.write(account.read() + amount)
        done.set()

threading.Thread(target=teller, daemon=True).start()

def deposit(account, amount):
    done = threading.Event()
    requests.put((account, amount, done))
    done.wait()
"""),
        ],
    ),
    2: Exercise(  # fetch_all(fetch, urls) with a ThreadPoolExecutor
        wrong=[
            Answer("a plain loop", """
def fetch_all(fetch, urls):
    return [fetch(url) for url in urls]
""", says=("this thread, one after another",)),
            Answer("as_completed: pages in the order they finish", """
from concurrent.futures import as_completed

def fetch_all(fetch, urls):
    with ThreadPoolExecutor(max_workers=8) as executor:
        return [f.result() for f in as_completed([executor.submit(fetch, url) for url in urls])]
""", says=("out of order", "as_completed")),
            Answer("submit(fetch(url)): the call instead of the function", """
def fetch_all(fetch, urls):
    with ThreadPoolExecutor() as executor:
        futures = [executor.submit(fetch(url)) for url in urls]
        return [f.result() for f in futures]
""", says=("not callable", "executor.submit(fetch, url)")),
            Answer("threads started by hand", """
def fetch_all(fetch, urls):
    pages = [None] * len(urls)

    def get(i, url):
        pages[i] = fetch(url)

    threads = [threading.Thread(target=get, args=(i, url)) for i, url in enumerate(urls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return pages
""", says=("threads you started yourself", "ThreadPoolExecutor")),
            Answer("a process pool", """
from concurrent.futures import ProcessPoolExecutor

def fetch_all(fetch, urls):
    with ProcessPoolExecutor(max_workers=4, mp_context=ctx) as executor:
        return list(executor.map(fetch, urls))
""", says=("ProcessPoolExecutor?", "ThreadPoolExecutor")),
            Answer("result() right after each submit", """
def fetch_all(fetch, urls):
    with ThreadPoolExecutor() as executor:
        return [executor.submit(fetch, url).result() for url in urls]
""", says=("at most 1 download(s)", "before waiting")),
            Answer("the futures instead of the pages", """
def fetch_all(fetch, urls):
    with ThreadPoolExecutor() as executor:
        return [executor.submit(fetch, url) for url in urls]
""", says=("Future objects", ".result()")),
            Answer("the iterator executor.map returns", """
def fetch_all(fetch, urls):
    with ThreadPoolExecutor() as executor:
        return executor.map(fetch, urls)
""", says=("iterator", "list(executor.map")),
            Answer("the pool run for show, the pages written out here", """
def fetch_all(fetch, urls):
    with ThreadPoolExecutor() as executor:
        list(executor.map(fetch, urls))
    return [f"<html>{url}</html>" for url in urls]
""", says=("are not what fetch returned", "made here")),
            Answer("half the URLs in the pool, the rest in a loop here", """
def fetch_all(fetch, urls):
    with ThreadPoolExecutor(max_workers=8) as executor:
        first = list(executor.map(fetch, urls[:4]))
    return first + [fetch(url) for url in urls[4:]]
""", says=("4 of the 8 downloads ran in this thread",)),
            Answer("multiprocessing's ThreadPool", """
from multiprocessing.pool import ThreadPool

def fetch_all(fetch, urls):
    with ThreadPool(8) as pool:
        return pool.map(fetch, urls)
""", says=("multiprocessing.pool.ThreadPool", "concurrent.futures.ThreadPoolExecutor")),
            Answer("a task that waits for another task in a pool of one: deadlock", """
def fetch_all(fetch, urls):
    with ThreadPoolExecutor(max_workers=1) as executor:
        def fetch_via_the_pool(url):
            return executor.submit(fetch, url).result()
        return list(executor.map(fetch_via_the_pool, urls))
""", says=("has waited 3 s with no download finishing", "no thread left to run it")),
        ],
        right=[
            Answer("the hidden solution", """
def fetch_all(fetch, urls):
    with ThreadPoolExecutor() as executor:
        return list(executor.map(fetch, urls))
"""),
            Answer("asyncio.to_thread, which runs in the default ThreadPoolExecutor", """
import asyncio

def fetch_all(fetch, urls):
    async def main():
        return await asyncio.gather(*(asyncio.to_thread(fetch, url) for url in urls))
    with ThreadPoolExecutor(max_workers=1) as runner:  # a fresh event loop, away from the kernel's own
        return runner.submit(asyncio.run, main()).result()
"""),
            Answer("submit every URL, then collect in order", """
def fetch_all(fetch, urls):
    with ThreadPoolExecutor(max_workers=len(urls)) as executor:
        futures = [executor.submit(fetch, url) for url in urls]
        return [future.result() for future in futures]
"""),
        ],
    ),
}
