"""Answerers turn a question and retrieved passages into a cited ``Answer``.

Every answerer implements ``Answerer`` and registers under a name with
``register``; the extractive default registers exactly like the LLM ones.
"""

from .base import Answerer, AnswerRequest, PartEvidence, available, create, register

__all__ = ["AnswerRequest", "Answerer", "PartEvidence", "available", "create", "register"]
