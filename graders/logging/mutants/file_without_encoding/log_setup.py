"""The outline's logger: one named logger, the console for what needs attention, a file for everything."""

import logging

FORMAT = "时间: %(asctime)s; 级别: %(levelname)s; 日志内容: %(message)s"  # the outline's format


def setup_logger(name: str, path: str) -> logging.Logger:
    """The logger called `name`, ready to use, like the outline's logging.getLogger('test').

    WARNING and above go to the console (stderr); everything from DEBUG up goes to the file `path`, in UTF-8;
    both in FORMAT. Calling setup_logger again with the same name returns the same logger with no new handlers.
    """
    logger = logging.getLogger(name)
    if logger.handlers:  # getLogger(name) returns the same object every time: it is set up already
        return logger
    # The logger drops records below its own level before any handler sees them.
    logger.setLevel(logging.DEBUG)

    formatter = logging.Formatter(FORMAT)

    sh = logging.StreamHandler()  # sys.stderr: logs stay apart from the program's own output
    sh.setLevel(logging.WARNING)
    sh.setFormatter(formatter)

    fh = logging.FileHandler(path)
    fh.setLevel(logging.DEBUG)
    fh.setFormatter(formatter)

    logger.addHandler(sh)
    logger.addHandler(fh)
    return logger


def divide_ten_by(a: float, logger: logging.Logger) -> float | None:
    """The outline's f(a): log 10 / a at INFO and return it; when that fails, log the error and return None."""
    try:
        num = 10 / a
        logger.info(num)
        return num
    except Exception:
        # exception() logs at ERROR and appends the traceback of the error being handled.
        logger.exception("10 / a failed")
        return None
