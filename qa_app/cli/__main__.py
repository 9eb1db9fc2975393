"""``python -m qa_app.cli``: the ``qa-app`` command."""

from qa_app.cli.commands import run

if __name__ == "__main__":
    run()
