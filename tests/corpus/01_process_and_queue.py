"""Wrong and right answers for lesson 01's exercises (see tests/exercise_corpus.py)."""

from exercise_corpus import Answer, Exercise

EXERCISES = {
    1: Exercise(
        wrong=[
            Answer("one process for every size", """
processes = [ctx.Process(target=labelled_cubic_sum, args=(q, 0, sum(SIZES)))]
processes[0].start()
results = [q.get(timeout=30)[1]] * 4
processes[0].join()
""", says=("serial answer",)),
        ],
        right=[
            Answer("the hidden solution", """
q = ctx.Queue()
processes = [ctx.Process(target=labelled_cubic_sum, args=(q, i, n)) for i, n in enumerate(SIZES)]
for p in processes:
    p.start()
pairs = [q.get(timeout=30) for _ in processes]
for p in processes:
    p.join()
results = [value for _, value in sorted(pairs)]
"""),
        ],
    ),
}
