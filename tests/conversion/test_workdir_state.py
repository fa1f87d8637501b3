"""resume.json written by several workers at once (conversion/workdir.py): the Ray engine's segment tasks of one
film each mark their segment finished, and a shared temporary name once made one of them fail the film."""

import json
import threading

from tpstvsr_cli.conversion.workdir import WorkDir


def test_concurrent_saves_never_fail_and_leave_a_whole_state_file(tmp_path):
    out = tmp_path / "film.mp4"
    first = WorkDir.open(out, {"scale": 4}, resume=False, overwrite=False)
    workers = [WorkDir(first.path, {"scale": 4}) for _ in range(4)]
    errors: list[BaseException] = []

    def mark(work: WorkDir, start: int) -> None:
        try:
            for i in range(start, start + 200):
                work.finished.add(i)
                work.save()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=mark, args=(w, 1000 * n)) for n, w in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    state = json.loads((first.path / "resume.json").read_text())
    assert state["settings"] == {"scale": 4} and len(state["finished"]) == 200
    assert not list(first.path.glob("*.tmp"))
