"""What a `kragrec` user sees: the demo's verbs on the tiny fixture, run as real subprocesses, print no library
warnings, info lines or weight-loading bars unless --verbose asks for them."""

from __future__ import annotations

import os
import subprocess
import sys

from kragrec.library_output import QUIET_ENVIRONMENT, QUIET_MARK

# Lines third-party libraries print on their own: Python warnings (and the source line under them), transformers'
# weight-loading bar, lightning_fabric's info lines.
NOISE = ("Warning", "warn(", "Loading weights", "Seed set to", "Automatic Mixed Precision")


def kragrec_output(*arguments: str) -> str:
    """stdout and stderr of one `python -m kragrec` run, which must succeed."""
    # as a user's shell has it: not what quiet CLI calls earlier in this test process set
    environment = {k: v for k, v in os.environ.items() if k not in {*QUIET_ENVIRONMENT, QUIET_MARK}}
    done = subprocess.run(
        [sys.executable, "-m", "kragrec", *arguments], capture_output=True, text=True, env=environment, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def noise_in(output: str) -> list[str]:
    return [line for line in output.splitlines() if any(marker in line for marker in NOISE)]


def test_the_demo_verbs_print_no_library_noise_unless_verbose(tiny_setup):
    settings, root = tiny_setup
    store = ["--data-dir", str(settings.data_dir), "--dataset", "tiny"]
    lists = ["--candidates", "10", "--pop-threshold", "0.6", "--fanout", "3"]
    small = ["--max-train", "4", "--max-valid", "4", "--epochs", "1", "--batch-size", "2", "--gnn-hidden", "16"]
    train = ["train", "--method", "k-ragrec-lora", "--llm", str(root / "tiny-llama"), *small, "--bf16"]
    sasrec = ["train", "--method", "sasrec", "--epochs", "1", "--run-dir", str(root / "quiet-sasrec")]

    quiet = [
        kragrec_output("kg", "stats", *store),
        kragrec_output(*sasrec, *store, *lists),
        kragrec_output(*train, "--run-dir", str(root / "quiet-run"), *store, *lists),
        kragrec_output("eval", str(root / "quiet-run"), "--prior", str(root / "quiet-sasrec"), *store),
        kragrec_output("recommend", str(root / "quiet-run"), "--user", "1", "--explain", *store),
    ]
    assert all("popularity" in output for output in quiet[1:4])  # the commands did report their tables
    assert [noise_in(output) for output in quiet] == [[]] * len(quiet)

    verbose = kragrec_output("--verbose", *train, "--run-dir", str(root / "verbose-run"), *store, *lists)
    shown = noise_in(verbose)
    assert any("Loading weights" in line for line in shown) and any("Seed set to" in line for line in shown)


def test_quiet_processes_show_no_plain_tqdm_bars():
    """transformers converts the packaged GGUF model under a plain tqdm bar (once per machine, on a cold cache)."""
    script = "from kragrec.library_output import quiet_libraries; quiet_libraries(); from tqdm import tqdm; "
    script += "list(tqdm(range(3), desc='converting'))"
    environment = {k: v for k, v in os.environ.items() if k not in {*QUIET_ENVIRONMENT, QUIET_MARK}}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment, check=True)
    assert "converting" not in done.stderr
