"""Rendering and reports: functions return bytes/str; callers write them."""
