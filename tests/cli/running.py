"""Running the command line in tests: in this process, or as the installed script."""
import shutil
import sys
from pathlib import Path

from nn import cli


def run(capsys, *argv):
    """Exit status, stdout and stderr of `autotensor argv...` run in this process."""
    status = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line_error(err, *fragments):
    """stderr is one error line, no traceback, holding every fragment."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], err


def console_script() -> str:
    """The installed `autotensor` script, next to this Python if possible."""
    script = shutil.which("autotensor", path=str(Path(sys.executable).parent)) or shutil.which("autotensor")
    assert script, "the autotensor console script is not installed"
    return script


def interrupt_at_epoch(epoch):
    """A stand-in for ProgressReporter.__call__ that presses Ctrl-C when ``epoch`` is reported."""
    def report(self, current, epochs, train_loss, test_loss):
        self.epoch = current
        if current == epoch:
            raise KeyboardInterrupt
    return report
