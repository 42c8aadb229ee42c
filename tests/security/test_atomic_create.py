"""Creates are atomic (issue 19, finding 9): of concurrent ``POST`` creates of one
name against a real `sedna up`, exactly one is told 201 and the others 409, as a
Kubernetes API server answers; the stored object is the winner's."""

import threading

from test_server_access import API, call, dataset, plane  # noqa: F401 - plane: the module's own `sedna up`


def _race(plane, name, clients=20):
    start, answers = threading.Barrier(clients), [None] * clients

    def one(i):
        body = dataset(name, url=f"/tmp/client-{i}/data.txt")
        start.wait()
        answers[i] = call(plane, "POST", f"{API}/namespaces/default/datasets", body)[:2]

    threads = [threading.Thread(target=one, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


def test_of_concurrent_creates_of_one_name_exactly_one_is_told_it_created_it(plane):
    for attempt in range(5):
        answers = _race(plane, f"race-{attempt}")
        codes = sorted(code for code, _ in answers)
        assert codes == [201] + [409] * (len(answers) - 1), codes
        winner = next(body for code, body in answers if code == 201)
        stored = call(plane, "GET", f"{API}/namespaces/default/datasets/race-{attempt}")[1]
        assert stored["spec"]["url"] == winner["object"]["spec"]["url"]
        assert all("already exists" in body["message"] for code, body in answers if code == 409)


def test_a_create_of_an_existing_name_is_a_409_and_changes_nothing(plane):
    assert call(plane, "POST", f"{API}/namespaces/default/datasets", dataset("once"))[0] == 201
    code, body, _ = call(plane, "POST", f"{API}/namespaces/default/datasets", dataset("once", url="/tmp/x/data.txt"))
    assert code == 409 and "already exists" in body["message"]
    assert call(plane, "GET", f"{API}/namespaces/default/datasets/once")[1]["spec"]["url"] == "/tmp/nowhere/data.txt"
