"""The one error type for bad input: it always names where the problem is."""


class BadInput(ValueError):
    """Input that cannot be used, with the file or partition it came from."""

    def __init__(self, where: str, problem: str):
        self.where = str(where)
        self.problem = problem
        super().__init__(f"{self.where}: {problem}")
