"""A run directory is shared state: claim it atomically and hold a lock on it for the run's life.

Two runs started at the same moment must not write into the same directory. So:

- a new run's default directory ``runs/TASK-N`` is claimed with ``os.mkdir``, which fails if another process
  made it first; the loop then tries ``N + 1`` (no exists()-then-create race);
- every run (new or resumed) holds an OS lock, ``fcntl.flock`` on ``RUN_DIR/.lock``, until it ends. The
  kernel drops the lock when the process exits, however it exits (a crash or SIGKILL included), so a lock
  is never stale. A second run on the same ``--out``, or a ``--resume`` of a directory a live run holds, is
  refused in one line. The lock file itself stays (deleting it would let two processes lock two files);
- only the lock holder writes checkpoints, so once the lock is held the temporary files of interrupted
  checkpoint writes (``.step-N.safetensors.PID.HEX.tmp``) whose writer process is gone are deleted.

Nothing is created before the caller has validated everything it can (options, data, checkpoint): a
:class:`RunDirectory` is claimed last, right before the first file of the run is written, and a directory
it created is removed again if the run leaves nothing in it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil

from .config import ConfigError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; the atomic mkdir still separates concurrent new runs
    fcntl = None

__all__ = ["RunDirectory", "LOCK_NAME"]

LOCK_NAME = ".lock"
_CHECKPOINT_TEMPORARY = re.compile(r"^\..+\.(\d+)\.[0-9a-f]+\.tmp$")  # microseq.checkpoint's atomic writes


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _why(error: OSError) -> str:
    return error.strerror or str(error)


class RunDirectory:
    """A run directory this process holds the lock of.

    Use :meth:`new` for a new run and :meth:`existing` to resume one; :meth:`release` (or the end of a
    ``with`` block, or the process) gives the lock back.

    Attributes
    ----------
    path : str
    created : bool
        Whether this process made the directory (then :meth:`release` removes it if the run left it empty).
    """

    def __init__(self, path: str, created: bool) -> None:
        self.path, self.created = path, created
        try:
            self._lock = os.open(os.path.join(path, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as error:
            self._lock = None
            self._remove_if_empty()
            raise ConfigError(f"cannot lock run directory {path}: {_why(error)}") from None
        if fcntl is None:
            return
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            self._close_lock()  # the directory is another run's now: leave it as it is
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise ConfigError(f"{path} is in use by another run that is still going; wait for it to end "
                                  "or choose another --out") from None
            raise ConfigError(f"cannot lock run directory {path}: {_why(error)}") from None

    # -- claiming -----------------------------------------------------------------------------------------------
    @classmethod
    def new(cls, out: str | None, task: str, root: str = "runs") -> "RunDirectory":
        """Claim ``out`` (missing, or a directory that holds no run) or else the first free ``root/TASK-N``.

        Raises
        ------
        ConfigError
            ``out`` holds a run, is in use, is a file, or cannot be created (read-only, under a file...).
        """
        if out:
            return cls._claim(out)
        _make_folder(root, "cannot make a run directory")
        n = 1
        while True:
            path = os.path.join(root, f"{task}-{n}")
            try:
                os.mkdir(path)
            except FileExistsError:
                n += 1
                continue
            except OSError as error:
                raise ConfigError(f"cannot create run directory {path}: {_why(error)}") from None
            return cls(path, created=True)

    @classmethod
    def _claim(cls, out: str) -> "RunDirectory":
        _make_folder(os.path.dirname(os.path.normpath(out)), f"--out {out}")
        try:
            os.mkdir(out)
            created = True
        except FileExistsError:
            if not os.path.isdir(out):
                raise ConfigError(f"--out {out} is a file, not a directory") from None
            created = False
        except OSError as error:
            raise ConfigError(f"--out {out}: cannot create the directory: {_why(error)}") from None
        claimed = cls(out, created)
        if os.path.exists(os.path.join(out, "config.json")):  # checked under the lock: no run can start meanwhile
            claimed.release()
            raise ConfigError(f"{out} already holds a run; continue it with --resume {out} or choose another --out")
        return claimed

    @classmethod
    def existing(cls, path: str) -> "RunDirectory":
        """Lock the run directory ``path`` to resume it (a ConfigError if a live run holds it)."""
        return cls(path, created=False)

    # -- while holding it --------------------------------------------------------------------------------------
    def clean_temporaries(self, folder: str) -> list[str]:
        """Delete the temporaries of interrupted checkpoint writes in ``folder`` whose writer is gone."""
        removed = []
        try:
            names = os.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            return removed
        for name in names:
            match = _CHECKPOINT_TEMPORARY.match(name)
            if match and (int(match.group(1)) == os.getpid() or not _pid_alive(int(match.group(1)))):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(folder, name))
                    removed.append(name)
        return removed

    def release(self, discard: bool = False) -> None:
        """Give the lock back; a directory this process created is removed if the run left it empty, or
        with everything in it if ``discard`` (a run that failed before its first step)."""
        if discard and self.created and self._lock is not None:
            shutil.rmtree(self.path, ignore_errors=True)
        self._remove_if_empty()  # while still holding the lock: no other run can be starting in it
        self._close_lock()

    def _close_lock(self) -> None:
        if self._lock is not None:
            os.close(self._lock)  # closing the descriptor drops the flock
            self._lock = None

    def _remove_if_empty(self) -> None:
        if not self.created:
            return
        with contextlib.suppress(OSError):
            if set(os.listdir(self.path)) <= {LOCK_NAME}:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(self.path, LOCK_NAME))
                os.rmdir(self.path)

    def __enter__(self) -> "RunDirectory":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _make_folder(folder: str, what: str) -> None:
    """Create ``folder`` and those above it if missing; a ConfigError starting with ``what`` if they cannot be."""
    try:
        os.makedirs(folder or ".", exist_ok=True)
    except FileExistsError:
        raise ConfigError(f"{what}: {folder} is a file, not a directory") from None
    except OSError as error:
        raise ConfigError(f"{what}: cannot create {folder}: {_why(error)}") from None
