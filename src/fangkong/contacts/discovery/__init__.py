"""Automatic contact discovery: the only package that calls ``fangkong.engine`` (see ``runs``)."""

from fangkong.contacts.discovery.runs import discovery_execute, discovery_fail, discovery_start

__all__ = ["discovery_execute", "discovery_fail", "discovery_start"]
