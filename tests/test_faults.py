"""Faults in a run folder: a damaged config.json, a failed export, two runs in one folder, weights
that turn non-finite, unreadable checkpoints, a process killed (also inside a write). Each gives one
clear line and loses nothing; a killed run resumes to exactly the weights of one never stopped.
docs/faults.md lists every fault with what charlib does and the test that checks it."""

from __future__ import annotations

import json

import pytest

from charlib.base.run import RunFolderError
from charlib.cli import main
from charlib.training.gan import load_generator

DAMAGES = {
    "invalid JSON": lambda text: text[: len(text) // 2],
    "not an object": lambda text: "[1, 2, 3]",
    "missing key": lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "image_size"}),
    "wrong type": lambda text: json.dumps({**json.loads(text), "latent_dim": "eight"}),
    "unknown kind": lambda text: json.dumps({**json.loads(text), "model": "gann"}),
    "no kind": lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "model"}),
    "value refused": lambda text: json.dumps({**json.loads(text), "pack": 3}),
}


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_config_json_is_one_clear_error_naming_the_file(tiny_gan_copy, capsys, damage):
    path = tiny_gan_copy / "config.json"
    path.write_text(damage(path.read_text()))
    damaged = path.read_text()
    with pytest.raises(RunFolderError, match="config.json") as info:
        load_generator(tiny_gan_copy)
    assert "Fix the file by hand" in str(info.value) and "\n" not in str(info.value)
    for command in (["sample", "--checkpoint", str(tiny_gan_copy), "--out", str(tiny_gan_copy / "s.png")],
                    ["diagnose", "--checkpoint", str(tiny_gan_copy), "--n", "16"],
                    ["train", "gan", "--out", str(tiny_gan_copy), "--resume", "--steps", "12", "--quiet"]):
        capsys.readouterr()
        assert main(command) == 2, command
        err = capsys.readouterr().err
        assert err.startswith("error: ") and str(path) in err and len(err.strip().splitlines()) == 1
    assert path.read_text() == damaged and not (tiny_gan_copy / "s.png").exists()
    assert sorted(p.name for p in (tiny_gan_copy / "ckpt").glob("*.index")) == ["ckpt-10.index",
                                                                               "ckpt-5.index"]


def test_a_failed_export_leaves_the_previous_one_and_no_temporary_file(tiny_gan_copy, monkeypatch):
    import keras

    from charlib.base.io import export_model

    export = tiny_gan_copy / "generator.keras"
    before = export.read_bytes()
    generator, _ = load_generator(tiny_gan_copy)

    def save_then_fail(self, path, *args, **kwargs):
        with open(path, "wb") as fh:  # half a file, as a full disk or a kill would leave it
            fh.write(before[: len(before) // 2])
        raise OSError("No space left on device")

    monkeypatch.setattr(keras.Model, "save", save_then_fail)
    with pytest.raises(OSError, match="No space"):
        export_model(generator, export)
    assert export.read_bytes() == before
    files = sorted(p.name for p in tiny_gan_copy.iterdir() if p.is_file())
    assert files == ["config.json", "generator.keras", "history.csv"]


def _lock(folder, **holder) -> dict:
    import os
    import socket

    from charlib.base.run import _boot_id

    lock = {"pid": os.getppid(), "host": socket.gethostname(), "boot": _boot_id(), "started": "earlier",
            **holder}
    (folder / "run.lock").write_text(json.dumps(lock))
    return lock


def _ended_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


def test_a_run_is_refused_where_a_live_process_holds_the_lock(tiny_gan_copy, tiny_gan, tmp_path, capsys):
    from charlib.base.run import RunLocked
    from charlib.training.gan import train_gan

    lock = _lock(tiny_gan_copy)  # pytest's parent process: alive, and not this process
    before = (tiny_gan_copy / "run.lock").read_text()
    with pytest.raises(RunLocked, match=f"process {lock['pid']} on {lock['host']}"):
        train_gan(out=tiny_gan_copy, resume=True, steps=12, progress=False)
    assert main(["train", "gan", "--out", str(tiny_gan_copy), "--resume", "--steps", "12", "--xla",
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "is in use" in err and "delete" in err and len(err.strip().splitlines()) == 1
    assert (tiny_gan_copy / "run.lock").read_text() == before
    saved = json.loads((tiny_gan_copy / "config.json").read_text())
    assert saved["steps"] == 10 and not saved["jit_compile"]
    assert sorted(p.name for p in (tiny_gan_copy / "ckpt").glob("*.index")) == ["ckpt-10.index",
                                                                               "ckpt-5.index"]
    fresh = tmp_path / "fresh"  # a new run into a folder that another process has just locked
    fresh.mkdir()
    _lock(fresh)
    with pytest.raises(RunLocked):
        train_gan(tiny_gan(steps=2), fresh, progress=False)
    assert [p.name for p in fresh.iterdir()] == ["run.lock"]
    # reading a run is not training it: sampling works while the lock is held
    assert main(["sample", "--checkpoint", str(tiny_gan_copy), "--out", str(tmp_path / "s.npz")]) == 0


def test_only_one_of_two_runs_gets_the_lock_of_a_folder(tmp_path):
    from charlib.base.run import RunLock, RunLocked

    first, second = RunLock(tmp_path), RunLock(tmp_path)
    first.acquire()
    with pytest.raises(RunLocked, match="is in use"):
        second.acquire()
    second.release()  # not its lock: stays
    assert (tmp_path / "run.lock").is_file()
    first.release()
    assert not (tmp_path / "run.lock").exists()
    second.acquire()
    assert json.loads((tmp_path / "run.lock").read_text())["pid"] == __import__("os").getpid()


def _old_garbled_lock(folder) -> None:
    import os

    (folder / "run.lock").write_text("")  # a run killed while it wrote its lock
    os.utime(folder / "run.lock", (0, 0))


STALE = {
    "process ended": (lambda folder: _lock(folder, pid=_ended_pid()), "has ended"),
    "other host": (lambda folder: _lock(folder, host="another-machine"), "on the host another-machine"),
    "other boot": (lambda folder: _lock(folder, boot="an-earlier-boot"), "before this machine restarted"),
    "garbled": (_old_garbled_lock, "unreadable"),
}


@pytest.mark.parametrize("make, why", STALE.values(), ids=STALE.keys())
def test_a_stale_lock_is_reported_in_one_line_and_taken_over(tiny_gan_copy, capsys, monkeypatch, make, why):
    from charlib.base import run as run_module
    from charlib.training.gan import train_gan

    monkeypatch.setattr(run_module, "_boot_id", lambda: "this-boot")
    make(tiny_gan_copy)
    capsys.readouterr()
    result = train_gan(out=tiny_gan_copy, resume=True, steps=12, progress=False)
    taken = [line for line in capsys.readouterr().out.splitlines() if "Taking over" in line]
    assert len(taken) == 1 and why in taken[0]
    assert int(result.model.step.numpy()) == 12
    assert not (tiny_gan_copy / "run.lock").exists()


def test_the_lock_is_held_while_training_and_released_however_training_ends(tmp_path, monkeypatch, tiny_gan,
                                                                           interrupted_at_batch):
    import os

    from charlib.errors import TrainingDiverged
    from charlib.training import trainer
    from charlib.training.gan import train_gan

    seen, real_loop = [], trainer.run_loop

    def watching_loop(*, run, **kwargs):
        seen.append(json.loads((run.path / "run.lock").read_text())["pid"])
        return real_loop(run=run, **kwargs)

    monkeypatch.setattr(trainer, "run_loop", watching_loop)
    train_gan(tiny_gan(steps=2), tmp_path / "done", progress=False)
    assert seen == [os.getpid()] and not (tmp_path / "done" / "run.lock").exists()
    with interrupted_at_batch(1):
        train_gan(tiny_gan(steps=5), tmp_path / "stopped", progress=False)
    assert not (tmp_path / "stopped" / "run.lock").exists()
    with pytest.raises(TrainingDiverged):
        train_gan(tiny_gan(steps=50, lr_g=1e12, lr_d=1e12), tmp_path / "nan", progress=False)
    assert not (tmp_path / "nan" / "run.lock").exists()
    (tmp_path / "nan" / "config.json").write_text("{")
    with pytest.raises(RunFolderError, match="not valid JSON"):
        train_gan(out=tmp_path / "nan", resume=True, progress=False)
    assert not (tmp_path / "nan" / "run.lock").exists()


def test_an_update_that_makes_a_weight_infinite_is_never_checkpointed(tmp_path, tiny_gan, monkeypatch):
    import numpy as np
    import tensorflow as tf

    from charlib.errors import TrainingDiverged
    from charlib.training.gan import GAN, train_gan

    real_step = GAN.train_step

    def breaking_step(self, batch):  # step 3's losses are finite; its update writes inf into one weight
        logs = real_step(self, batch)
        w = self.generator.trainable_variables[0]
        w.assign(tf.where(self.step >= 3, tf.fill(tf.shape(w), np.inf), w))
        return logs

    monkeypatch.setattr(GAN, "train_step", breaking_step)
    with pytest.raises(TrainingDiverged, match="step 3: a weight became NaN or infinite") as info:
        train_gan(tiny_gan(steps=10, ckpt_every=1), tmp_path / "inf", progress=False)
    assert "last good checkpoint (step 2)" in str(info.value)
    ckpt = tmp_path / "inf" / "ckpt"
    assert sorted(p.name for p in ckpt.glob("*.index")) == ["ckpt-1.index", "ckpt-2.index"]
    monkeypatch.undo()
    generator, _ = load_generator(tmp_path / "inf")
    assert all(np.all(np.isfinite(w)) for w in generator.get_weights())


def _newest_data(run):
    return run / "ckpt" / "ckpt-10.data-00000-of-00001"


CORRUPT = {  # what a full disk, a bad copy or a kill during a write leaves of the newest checkpoint
    "truncated data": lambda run: _newest_data(run).write_bytes(_newest_data(run).read_bytes()[:100]),
    "empty index": lambda run: (run / "ckpt" / "ckpt-10.index").write_bytes(b""),
    "data overwritten": lambda run: _newest_data(run).write_bytes(b"\0" * _newest_data(run).stat().st_size),
    "data missing": lambda run: _newest_data(run).unlink(),
}


@pytest.mark.parametrize("corrupt", CORRUPT.values(), ids=CORRUPT.keys())
def test_an_unreadable_newest_checkpoint_falls_back_to_the_older_one_and_says_so(tiny_gan_copy, tiny_gan_run,
                                                                               capsys, corrupt):
    import numpy as np

    from charlib.training.gan import GanConfig, build_gan, train_gan
    from charlib.training.trainer import restore_for_inference

    corrupt(tiny_gan_copy)
    capsys.readouterr()
    model, _, _ = restore_for_inference(GanConfig, tiny_gan_copy, build_gan)
    said = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Restored")]
    assert int(model.step.numpy()) == 5
    assert len(said) == 1 and "ckpt-5" in said[0] and "newer ckpt-10 could not be read" in said[0]
    resumed = train_gan(out=tiny_gan_copy, resume=True, progress=False)  # from step 5, to the same end
    straight, _, _ = restore_for_inference(GanConfig, tiny_gan_run, build_gan)
    assert int(resumed.model.step.numpy()) == 10
    for a, b in zip(straight.generator.weights + straight.discriminator.weights,
                    resumed.model.generator.weights + resumed.model.discriminator.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_no_readable_checkpoint_is_one_clear_error(tiny_gan_copy, capsys):
    from charlib.training.loop import CheckpointUnreadable

    for data in (tiny_gan_copy / "ckpt").glob("*.data-*"):
        data.write_bytes(data.read_bytes()[:50])
    with pytest.raises(CheckpointUnreadable, match="None of the 2 checkpoints") as info:
        load_generator(tiny_gan_copy)
    assert "ckpt-10" in str(info.value) and "ckpt-5" in str(info.value) and "\n" not in str(info.value)
    assert main(["sample", "--checkpoint", str(tiny_gan_copy), "--out", str(tiny_gan_copy / "s.png")]) == 2
    assert "can be read" in capsys.readouterr().err and not (tiny_gan_copy / "s.png").exists()


def test_a_checkpoint_missing_a_network_the_model_declares_is_refused(tmp_path, tiny_gan):
    from charlib.errors import CharlibError
    from charlib.training.gan import train_gan

    out = tmp_path / "no_ema"
    train_gan(tiny_gan(steps=2, ema_decay=None, ckpt_every=1), out, progress=False)
    config = json.loads((out / "config.json").read_text())
    (out / "config.json").write_text(json.dumps({**config, "ema_decay": 0.995}))  # now it declares an EMA G
    with pytest.raises(CharlibError, match="can be read"):
        load_generator(out)  # not an EMA generator left at its initial weights



def test_a_resumed_run_removes_what_an_interrupted_write_left_and_says_so(tiny_gan_copy, capsys):
    from charlib.training.gan import train_gan

    ckpt = tiny_gan_copy / "ckpt"  # what kills during writes leave (a checkpoint 15 was being written)
    left = [tiny_gan_copy / ".history.csv.k2j3x.tmp", tiny_gan_copy / ".config.json.a81b.tmp",
            tiny_gan_copy / ".generator.tmp.keras", ckpt / "checkpoint.tmp3f2a9c", ckpt / "ckpt-15.index",
            ckpt / "ckpt-15.data-00000-of-00001", ckpt / "ckpt-15_temp" / "part-00000-of-00001.index"]
    for path in left:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"half written")
    load_generator(tiny_gan_copy)  # a reader cleans nothing: a live run may be writing those files
    assert all(path.exists() for path in left)
    capsys.readouterr()
    train_gan(out=tiny_gan_copy, resume=True, steps=12, progress=False)
    said = capsys.readouterr().out.splitlines()
    removed = [line for line in said if line.startswith("Removed what an interrupted write left")]
    assert len(removed) == 1, said
    for name in (".history.csv.k2j3x.tmp", ".config.json.a81b.tmp", ".generator.tmp.keras",
                 "ckpt/checkpoint.tmp3f2a9c", "ckpt/ckpt-15.index", "ckpt/ckpt-15_temp"):
        assert name in removed[0]
    assert any(f"from step 10 of 12 (ckpt-10 in {ckpt})" in line for line in said), said
    assert not any(path.exists() for path in left) and not (ckpt / "ckpt-15_temp").exists()
    assert sorted(p.name for p in ckpt.glob("*.index")) == ["ckpt-10.index", "ckpt-12.index", "ckpt-5.index"]


class _Killed(BaseException):
    """Stands for a SIGKILL between two writes: nothing after it runs, no handler sees it."""


def test_a_kill_between_a_checkpoint_and_its_history_rows_loses_no_row(tmp_path, tiny_gan, tiny_gan_run,
                                                                      monkeypatch):
    from charlib.base.run import RunFolder
    from charlib.training.gan import train_gan
    from charlib.training.loop import Checkpointer

    done = []  # which of the two writes of the checkpoint at step 10 has happened

    def second_one_killed(name, real):
        def write(self, *args, **kwargs):
            step = int(self.step.numpy()) if name == "checkpoint" else int(args[0][-1]["step"])
            if step == 10 and done:
                raise _Killed
            if step == 10:
                done.append(name)
            return real(self, *args, **kwargs)
        return write

    monkeypatch.setattr(Checkpointer, "save", second_one_killed("checkpoint", Checkpointer.save))
    monkeypatch.setattr(RunFolder, "write_history", second_one_killed("history", RunFolder.write_history))
    out = tmp_path / "gan"
    with pytest.raises(_Killed):
        train_gan(tiny_gan(steps=10), out, progress=False)
    monkeypatch.undo()
    resumed = train_gan(out=out, resume=True, progress=False)
    assert [row["step"] for row in resumed.history] == list(range(1, 11))
    assert (out / "history.csv").read_text() == (tiny_gan_run / "history.csv").read_text()


# A child process that trains: it imports TensorFlow and charlib, then waits for the file GO, so that
# the test can start every child at once and pay for those imports only once in wall time. Then it runs
# the charlib command line with the given arguments (as ``python -m charlib ...`` would), or, with
# "new" and a config as JSON, trains that GAN into a new run folder. With PAUSE = K > 0 it stops
# inside the write of checkpoint K: once TensorFlow has written the shards into ckpt-K_temp/, and
# before it merges them into ckpt-K.index and .data, it creates the file WRITING and sleeps, for the
# test to kill it there. It patches TensorFlow's merge op in this process only; charlib runs unchanged.
TRAIN_CHILD = """
import json, sys, time
from pathlib import Path
from tensorflow.python.ops import gen_io_ops
import charlib.cli
from charlib.training.gan import GanConfig, train_gan
go, pause_at, writing, args = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4:]
real_merge = gen_io_ops.merge_v2_checkpoints
def paused_merge(prefixes, destination, *rest, **kwargs):
    if Path(destination.numpy().decode()).name == f"ckpt-{pause_at}":
        writing.write_text("")
        time.sleep(600)
    return real_merge(prefixes, destination, *rest, **kwargs)
gen_io_ops.merge_v2_checkpoints = paused_merge
while not go.exists():
    time.sleep(0.01)
if args[0] == "new":
    train_gan(GanConfig.from_dict(json.loads(args[2])), args[1], progress=False)
else:
    sys.exit(charlib.cli.main(args))
"""


def _recorded_step(run) -> int:
    """The newest checkpoint the run's ``checkpoint`` state file points at (0: none yet)."""
    import re

    try:
        text = (run / "ckpt" / "checkpoint").read_text()
    except FileNotFoundError:
        return 0
    found = re.search(r'^model_checkpoint_path: "ckpt-(\d+)"', text, re.M)
    return int(found.group(1)) if found else 0


def _wait_for(what, proc, log, timeout: float = 90.0) -> None:
    """Wait until ``what()`` holds while ``proc`` trains; fail, with the end of its ``log``, if it ends."""
    import time

    deadline = time.monotonic() + timeout
    while not what():
        if proc.poll() is not None:
            tail = "\n".join(log.read_text().splitlines()[-5:])
            pytest.fail(f"the training process ended (exit {proc.returncode}) before it was killed:\n{tail}")
        if time.monotonic() > deadline:
            pytest.fail(f"the training process made no progress within {timeout:.0f} s")
        time.sleep(0.01)


def _kill(proc) -> None:
    import os
    import signal

    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


def test_kill_9_at_random_moments_then_resume_gives_the_uninterrupted_run(tmp_path, tiny_gan):
    """SIGKILL a real training process twice, once inside a checkpoint write and once at a seeded
    random moment of the interval after the resumed run's second checkpoint, resuming each time
    with the command line's ``--resume``, until the run is done: every weight of both networks and of
    the EMA generator, the optimisers' state, the step count and history.csv are those of a run that
    was never stopped. The loop is deterministic on a CPU (batches follow the step, noise is keyed by
    (seed, step), optimisers and EMA are checkpointed), so the weights are compared for equality."""
    import os
    import random
    import subprocess
    import sys
    import time
    from pathlib import Path

    import numpy as np

    from charlib.training.gan import GanConfig, build_gan, train_gan
    from charlib.training.trainer import restore_for_inference

    rng = random.Random(20260)
    steps, every = 30, 5  # the random kill lands before step 25: the last resume has steps left
    config = tiny_gan(steps=steps, ckpt_every=every, sample_every=every)
    out, writing = tmp_path / "killed", tmp_path / "writing"
    pause_at = rng.choice((10, 15))
    resume = ["train", "gan", "--out", str(out), "--resume", "--quiet"]
    runs = [["new", str(out), json.dumps(config.to_dict())], resume, resume]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # so that what it said before the kill is kept
    children, logs = [], [tmp_path / f"said_{i}.txt" for i in range(len(runs))]
    for i, (args, log) in enumerate(zip(runs, logs, strict=True)):
        with open(log, "w") as fh:
            children.append(subprocess.Popen(
                [sys.executable, "-c", TRAIN_CHILD, str(tmp_path / f"go_{i}"), str(pause_at if i == 0 else 0),
                 str(writing), *args], cwd=Path(__file__).resolve().parents[1], env=env, stdout=fh,
                stderr=subprocess.STDOUT))
    try:
        straight = train_gan(config, tmp_path / "straight", progress=False)  # while the children start
        (tmp_path / "go_0").touch()
        _wait_for(writing.exists, children[0], logs[0])
        _kill(children[0])
        assert (out / "ckpt" / f"ckpt-{pause_at}_temp").is_dir()  # the kill landed inside the write
        assert _recorded_step(out) == pause_at - every
        (tmp_path / "go_1").touch()
        recorded_at = []
        for _ in range(2):  # its first two checkpoints, which time one checkpoint interval here
            before = _recorded_step(out)
            _wait_for(lambda before=before: _recorded_step(out) > before, children[1], logs[1])
            recorded_at.append(time.monotonic())
        time.sleep(rng.uniform(0.0, 1.0) * (recorded_at[1] - recorded_at[0]))  # in the next interval
        _kill(children[1])
        (tmp_path / "go_2").touch()
        assert children[2].wait(timeout=120) == 0, logs[2].read_text()
    finally:
        for child in children:
            if child.poll() is None:
                _kill(child)
    said = [log.read_text() for log in logs]
    first = said[1].splitlines()  # the resume after the kill inside the write
    assert any(f"Removed what an interrupted write left in {out}: ckpt/ckpt-{pause_at}_temp" in line
               for line in first), said[1]
    assert any(f"from step {pause_at - every} of {steps} (ckpt-{pause_at - every} in" in line
               for line in first), said[1]
    assert all("Taking over" in text for text in said[1:]), said  # each kill left its lock behind
    leftovers = [p.relative_to(out) for p in out.rglob("*")
                 if p.name.endswith("_temp") or ".tmp" in p.name or p.name == "run.lock"]
    assert leftovers == []

    resumed, _, _ = restore_for_inference(GanConfig, out, build_gan)
    assert int(resumed.step.numpy()) == steps == int(resumed.g_optimizer.iterations.numpy())
    for name in ("generator", "discriminator", "ema_generator", "g_optimizer", "d_optimizer"):
        a, b = getattr(straight.model, name).variables, getattr(resumed, name).variables
        assert len(a) == len(b) > 0
        for x, y in zip(a, b, strict=True):
            assert np.array_equal(x.numpy(), y.numpy()), f"{name}/{x.path} differs after the kills"
    assert (out / "history.csv").read_text() == (tmp_path / "straight" / "history.csv").read_text()
