"""Speed options (XLA, mixed precision, MirroredStrategy): fallbacks, loss scaling, replicas, resume."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import keras
import numpy as np
import pytest
import tensorflow as tf

from charlib.cli import main
from charlib.data.sprites import sample_sprites
from charlib.training import hardware
from charlib.training.conditional import ConditionalConfig, train_conditional
from charlib.training.gan import GanConfig, train_gan
from charlib.training.vae import VaeConfig, train_vae

FREQUENT = dict(sample_every=2, ckpt_every=2, ema_decay=0.9)
"""Changes to the tiny GAN here: checkpoints every 2 steps, and an EMA generator that moves."""


@pytest.fixture(scope="module")
def images():
    return sample_sprites(64, size=16, seed=0).images


def _weights(model) -> list[np.ndarray]:
    return [w.numpy() for w in model.weights]


def test_precision_falls_back_to_float32_where_it_cannot_help():
    assert hardware.resolve_precision("float32", set(), []) == ("float32", "")
    chosen, why = hardware.resolve_precision("mixed_float16", {"avx512_bf16"}, [])
    assert chosen == "float32" and "GPU" in why
    assert hardware.resolve_precision("mixed_bfloat16", {"amx_bf16"}, [])[0] == "mixed_bfloat16"
    chosen, why = hardware.resolve_precision("mixed_bfloat16", {"avx2"}, [])
    assert chosen == "float32" and "bfloat16" in why
    assert hardware.resolve_precision("mixed_float16", set(), ["a GPU"]) == ("mixed_float16", "")


def test_unknown_precision_is_a_clear_error_in_python_and_on_the_command_line(tmp_path, capsys):
    with pytest.raises(hardware.OptionError, match="precision must be one of"):
        hardware.plan("float8")
    with pytest.raises(SystemExit):  # argparse refuses it before anything runs
        main(["train", "gan", "--out", str(tmp_path / "run"), "--precision", "fp8"])
    assert not (tmp_path / "run").exists()


def test_plan_notice_is_one_line_naming_what_was_chosen():
    plan = hardware.plan("mixed_float16", jit_compile=True, distribute=True)
    line = plan.summary()
    assert "\n" not in line and line.startswith("Training on ")
    if not hardware.gpus():
        assert "float32" in line and "mixed_float16 asked" in line
        assert plan.replicas == 1 and "MirroredStrategy x1" in line


def test_loss_scaling_rescues_float16_gradients_that_underflow():
    """A tiny loss whose float16 gradients underflow to zero, unless the backward pass is scaled."""
    with hardware.dtype_policy("mixed_float16"):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4), keras.layers.Dense(1)])
    x = tf.ones((2, 4))

    def grads(optimizer):
        with tf.GradientTape() as tape:
            loss = 1e-9 * tf.reduce_sum(tf.cast(model(x), tf.float32))
        return hardware.gradients(tape, loss, model.trainable_variables, optimizer)

    plain = grads(keras.optimizers.Adam())
    scaled_opt = hardware.loss_scaled(keras.optimizers.Adam(), "mixed_float16")
    scaled_opt.build(model.trainable_variables)
    scale = float(scaled_opt.dynamic_scale.numpy())
    scaled = [g / scale for g in grads(scaled_opt)]
    assert float(tf.reduce_max(tf.abs(plain[0]))) == 0.0  # underflowed in float16
    assert float(tf.reduce_min(tf.abs(scaled[0]))) > 0.0  # survives once scaled, then unscaled
    assert np.isclose(float(scaled[2][0, 0]), 1e-9 * float(tf.reduce_sum(model.layers[0](x)[:, 0])),
                      rtol=1e-2)


def test_loss_scaled_optimizer_follows_the_requested_precision_only():
    assert isinstance(hardware.loss_scaled(keras.optimizers.Adam(), "mixed_float16"),
                      keras.optimizers.LossScaleOptimizer)
    for p in ("float32", "mixed_bfloat16"):
        assert not isinstance(hardware.loss_scaled(keras.optimizers.Adam(), p),
                              keras.optimizers.LossScaleOptimizer)


def test_old_config_without_speed_options_loads_with_defaults():
    old = {"model": "gan", "image_size": 32, "steps": 10}
    config = GanConfig.from_dict(old)
    assert (config.jit_compile, config.precision, config.distribute) == (False, "float32", False)


@pytest.mark.parametrize("options", [
    {"precision": "mixed_bfloat16"},
    # loss-scaled optimisers (on a CPU the step itself runs in float32) inside a strategy's scope
    {"precision": "mixed_float16", "distribute": True},
], ids=["bfloat16", "float16-mirrored"])
def test_gan_resumes_exactly_with_each_speed_option(tmp_path, images, options, tiny_gan):
    straight = train_gan(tiny_gan(steps=4, **FREQUENT, **options), tmp_path / "a", images=images,
                         progress=False)
    train_gan(tiny_gan(steps=2, **FREQUENT, **options), tmp_path / "b", images=images, progress=False)
    resumed = train_gan(out=tmp_path / "b", resume=True, steps=4, images=images, progress=False)
    saved = json.loads((tmp_path / "b" / "config.json").read_text())
    assert all(saved[k] == v for k, v in options.items())
    assert saved["runtime"]["device"]
    for a, b in zip(_weights(straight.model), _weights(resumed.model), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


TWO_REPLICAS = textwrap.dedent("""
    import json, os, sys, tempfile
    import numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from charlib.training import hardware

    def one_step(plan):
        with plan.scope():
            keras.utils.set_random_seed(0)
            model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dense(1)])
            opt = keras.optimizers.SGD(0.1)
            opt.build(model.trainable_variables)
        def step(batch):
            x, y = batch
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(model(x)[:, 0] - y))
            grads = hardware.gradients(tape, loss, model.trainable_variables, opt)
            opt.apply_gradients(zip(grads, model.trainable_variables))
            return {"loss": loss}
        batch = (tf.reshape(tf.range(24, dtype=tf.float32), (8, 3)) / 10.0, tf.range(8, dtype=tf.float32))
        plan.compile_step(step)(batch)
        return [w.numpy() for w in model.weights]

    plain = one_step(hardware.plan())
    two = hardware.plan(distribute=True, devices=["/cpu:0", "/cpu:1"])
    mirrored = one_step(two)
    same = all(np.allclose(a, b, atol=1e-6) for a, b in zip(plain, mirrored))

    from charlib.data.sprites import sample_sprites
    from charlib.training.gan import GanConfig, train_gan
    hardware._STRATEGIES[None] = two.strategy   # distribute=True uses the two logical CPUs
    out = tempfile.mkdtemp() + "/run"
    cfg = GanConfig(image_size=16, latent_dim=8, g_width=4, d_width=4, batch_size=8, steps=2,
                    sample_every=2, ckpt_every=2, log_every=1, n_samples=4, distribute=True)
    run = train_gan(cfg, out, images=sample_sprites(32, size=16, seed=0).images, progress=False)
    resumed = train_gan(out=out, resume=True, steps=3, images=sample_sprites(32, size=16, seed=0).images,
                        progress=False)
    print("gan", json.dumps({"same": bool(same), "replicas": two.replicas,
                             "finite": all(np.isfinite(v) for v in resumed.history[-1].values()),
                             "step": int(resumed.model.step.numpy())}), flush=True)
""")


@pytest.fixture(scope="module")
def two_replica_runs():
    """What :data:`TWO_REPLICAS` and then :data:`TWO_REPLICAS_CONDITIONAL` print, run in one child
    process, so that TensorFlow starts (with two logical CPUs) once: ``{"gan": ..., "conditional": ...}``."""
    script = TWO_REPLICAS + TWO_REPLICAS_CONDITIONAL + textwrap.dedent("""
        os._exit(0)  # the strategy's threads can hold up a normal interpreter exit
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    said = dict(line.split(" ", 1) for line in proc.stdout.splitlines()
                if line.startswith(("gan ", "conditional ")))
    return {name: json.loads(text) for name, text in said.items()}


def test_two_replicas_average_gradients_like_one_device_and_train_a_gan(two_replica_runs):
    """Two logical CPUs stand in for two GPUs: same update as one device, and a GAN trains and resumes."""
    assert two_replica_runs["gan"] == {"same": True, "replicas": 2, "finite": True, "step": 3}


def test_cli_speed_flags_are_saved_and_xla_may_be_switched_on_when_resuming(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "vae", "--profile", "smoke", "--steps", "2", "--out", str(out), "--quiet",
            "--precision", "mixed_bfloat16", "--distribute"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    config = json.loads((out / "config.json").read_text())
    assert config["precision"] == "mixed_bfloat16" and config["distribute"] is True
    assert printed.startswith("Training on ")  # the one-line notice
    assert main(["train", "vae", "--out", str(out), "--resume", "--steps", "3", "--xla", "--quiet"]) == 0
    resumed = json.loads((out / "config.json").read_text())
    assert resumed["jit_compile"] is True and resumed["steps"] == 3
    rows = (out / "history.csv").read_text().splitlines()
    assert rows[-1].startswith("3,") and "nan" not in rows[-1]
    assert main(["train", "vae", "--out", str(out), "--resume", "--precision", "float32"]) == 2
    assert "--precision" in capsys.readouterr().err


TRAINERS = {"gan": ("charlib.training.gan", "train_gan"), "vae": ("charlib.training.vae", "train_vae"),
            "conditional": ("charlib.training.conditional", "train_conditional")}
FLAGS = {"xla": (["--xla"], {"jit_compile": True}),
         "precision": (["--precision", "mixed_bfloat16"], {"precision": "mixed_bfloat16"}),
         "distribute": (["--distribute"], {"distribute": True})}


def test_every_trainer_the_cli_offers_is_covered_by_the_speed_tests():
    from charlib.cli import build_parser

    train = build_parser()._subparsers._group_actions[0].choices["train"]
    model = next(a for a in train._actions if a.dest == "model")
    assert set(model.choices) == set(TRAINERS)


@pytest.mark.parametrize("flag", FLAGS)
@pytest.mark.parametrize("model", TRAINERS)
def test_cli_hands_each_speed_flag_to_each_trainer(tmp_path, monkeypatch, capsys, model, flag):
    import importlib

    module, name = TRAINERS[model]
    seen = {}

    def fake_train(config, out, **kwargs):
        seen["config"] = config
        return SimpleNamespace(history=[], config=config,
                               run=SimpleNamespace(samples_dir=out, logs_dir=out))

    monkeypatch.setattr(importlib.import_module(module), name, fake_train)
    args, expected = FLAGS[flag]
    assert main(["train", model, "--profile", "smoke", "--out", str(tmp_path / "run"), *args]) == 0
    config = seen["config"]
    assert {k: getattr(config, k) for k in expected} == expected
    untouched = {"jit_compile": False, "precision": "float32", "distribute": False}
    assert all(getattr(config, k) == v for k, v in untouched.items() if k not in expected)


def _tiny_run(model: str, out, images, **options):
    common = dict(image_size=16, latent_dim=4, batch_size=8, steps=2, log_every=1, sample_every=2,
                  ckpt_every=2, n_samples=8, **options)
    if model == "gan":
        return train_gan(GanConfig(g_width=4, d_width=4, n_data=64, **common), out, images=images,
                         progress=False)
    if model == "vae":
        return train_vae(VaeConfig(width=4, n_data=64, kl_warmup_steps=2, **common), out, images=images,
                         progress=False)
    return train_conditional(ConditionalConfig(width=4, kl_warmup_steps=2, **common), out, progress=False)


def _networks(trained) -> list[keras.Model]:
    nets = trained.model.checkpoint_objects().values()
    return [net for net in nets if isinstance(net, keras.Model)]


@pytest.mark.parametrize("flag", FLAGS)
@pytest.mark.parametrize("model", TRAINERS)
def test_each_trainer_runs_its_step_through_the_speed_plan(tmp_path, monkeypatch, images, model, flag):
    """A two-step run: the step is compiled by the plan the options ask for, the networks are built in
    its scope, and config.json's ``runtime`` records what the step used."""
    plans = []
    real_compile = hardware.Plan.compile_step

    def spy(self, train_step):
        plans.append(self)
        return real_compile(self, train_step)

    monkeypatch.setattr(hardware.Plan, "compile_step", spy)
    _, options = FLAGS[flag]
    trained = _tiny_run(model, tmp_path / "run", images, **options)
    runtime = json.loads((tmp_path / "run" / "config.json").read_text())["runtime"]
    assert len(plans) == 1 and runtime == plans[0].as_dict()
    assert np.all(np.isfinite([row["loss"] for row in trained.history if "loss" in row]))
    assert int(trained.model.step.numpy()) == 2
    compute = {layer.compute_dtype for net in _networks(trained) for layer in net.layers}
    if flag == "xla":
        assert runtime["jit_compile"] is True and plans[0].strategy is None
    elif flag == "precision":
        chosen = hardware.resolve_precision("mixed_bfloat16")[0]
        assert runtime["precision"] == chosen
        assert ("bfloat16" in compute) == (chosen == "mixed_bfloat16")
    else:
        assert plans[0].strategy is not None and runtime["replicas"] == plans[0].replicas
    if flag != "precision":
        assert compute == {"float32"}


TWO_REPLICAS_CONDITIONAL = textwrap.dedent("""
    # run after TWO_REPLICAS, in the same process: distribute=True uses its two logical CPUs
    from charlib.training.conditional import ConditionalConfig, train_conditional
    assert hardware._STRATEGIES[None].num_replicas_in_sync == 2
    out = tempfile.mkdtemp() + "/run"
    cfg = ConditionalConfig(image_size=16, latent_dim=4, width=4, batch_size=8, steps=2, log_every=1,
                            sample_every=2, ckpt_every=2, n_samples=8, kl_warmup_steps=2, distribute=True)
    train_conditional(cfg, out, progress=False)
    resumed = train_conditional(out=out, resume=True, steps=3, progress=False)
    runtime = json.load(open(out + "/config.json"))["runtime"]
    print("conditional", json.dumps({"replicas": runtime["replicas"], "step": int(resumed.model.step.numpy()),
                                     "finite": all(np.isfinite(v) for v in resumed.history[-1].values())}),
          flush=True)
""")


def test_conditional_trainer_splits_its_pairs_over_two_replicas_and_resumes(two_replica_runs):
    assert two_replica_runs["conditional"] == {"replicas": 2, "step": 3, "finite": True}


def _autograph_settings_outside(texts: dict[str, str]) -> list[str]:
    """Names of the code texts that set AutoGraph themselves instead of compiling with hardware.graph."""
    return [name for name, text in texts.items() if "autograph=" in text]


def test_autograph_is_settled_in_one_place():
    from pathlib import Path

    import nbformat

    root = Path(__file__).resolve().parents[1]
    texts = {str(p.relative_to(root)): p.read_text(encoding="utf-8")
             for p in (root / "charlib").rglob("*.py") if p.name != "hardware.py"}
    for path in (root / "notebooks").glob("*.ipynb"):
        cells = nbformat.read(path, as_version=4).cells
        texts[path.name] = "\n".join(c.source for c in cells if c.cell_type == "code")
    assert _autograph_settings_outside(texts) == []
    assert hardware.graph(lambda x: x * 2)(tf.constant(3.0)).numpy() == 6.0
    # the rule catches a step compiled with its own setting
    assert _autograph_settings_outside({"x.py": "tf.function(step, autograph=False)"}) == ["x.py"]
