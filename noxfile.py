"""Developer tasks: `nox -s tests`, `nox -s lint`, `nox -s docs`, `nox -s bench`."""

import os

import nox


nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session):
    """Install neuromass with its test extra and run the whole test suite.

    Arguments after `--` go to pytest: `nox -s tests -- -m "not slow"` is the fast
    tier for the edit-test loop (CI runs everything). A run that collects no test
    (pytest's exit status 5, e.g. a filter that matches nothing) fails."""
    session.install(".[test]")
    workers = os.environ.get("NEUROMASS_TEST_WORKERS", "2")
    session.run(
        "pytest",
        "-n",
        workers,
        "--durations=15",
        *session.posargs,
        env={"MPLBACKEND": "Agg"},
    )


@nox.session
def lint(session):
    """ruff check and ruff format --check."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def docs(session):
    """Build the documentation site with `mkdocs build --strict`. The build fails
    if a page loads a script or stylesheet from another site: the site, maths
    included, works offline (docs/_hooks/offline_maths.py)."""
    session.install(".[docs]")
    env = {"MPLBACKEND": "Agg", "NO_MKDOCS_2_WARNING": "1"}
    session.run("mkdocs", "build", "--strict", env=env)


@nox.session
def bench(session):
    """Run the standard workloads (benchmarks/README.md) for neuromass and the
    reference kernel, printing JSON lines and the ratios."""
    session.install(".[data]", "scipy")
    session.run("python", "benchmarks/run_all.py", *session.posargs)
