"""Jinja2 templates of the HTML report (installed as package data of tulu_eval.report_templates)."""
