"""qa-app: offline extractive question answering over your own documents."""

from __future__ import annotations

__version__ = "0.1.0"

APP_NAME = "qa-app"
APP_DISPLAY_NAME = "QA App"
APP_ID = "org.qa_app.QAApp"
APP_ORG = "qa-app"
APP_DESCRIPTION = "Answers questions from your own documents, offline, with the exact source words."
