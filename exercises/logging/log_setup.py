"""The outline's logger: one named logger, the console for what needs attention, a file for everything."""

import logging  # noqa: F401  (you will need it)

FORMAT = "时间: %(asctime)s; 级别: %(levelname)s; 日志内容: %(message)s"  # the outline's format


def setup_logger(name: str, path: str) -> logging.Logger:
    """The logger called `name`, ready to use, like the outline's logging.getLogger('test').

    WARNING and above go to the console (stderr); everything from DEBUG up goes to the file `path`, in UTF-8;
    both in FORMAT. Calling setup_logger again with the same name returns the same logger with no new handlers.
    """
    # TODO(task 1): logging.getLogger(name), and a StreamHandler() at WARNING added to it.
    # TODO(task 2): the logger itself at DEBUG, and a FileHandler on `path` in UTF-8 at DEBUG.
    # TODO(task 3): one logging.Formatter(FORMAT), set on both handlers.
    # TODO(task 4): a second call must not add a second pair of handlers: return the logger if it has them.
    raise NotImplementedError("task 1")


def divide_ten_by(a: float, logger: logging.Logger) -> float | None:
    """The outline's f(a): log 10 / a at INFO and return it; when that fails, log the error and return None."""
    try:
        num = 10 / a
        logger.info(num)
        return num
    except Exception as e:
        # TODO(task 5): logger.error(e) writes only "division by zero"; log the error with its traceback.
        logger.error(e)
        return None
