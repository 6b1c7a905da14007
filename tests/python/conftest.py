# conftest.py: fixtures for the Python tests of Asab.TaskService
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import pytest

from asabtest import Asab, Events, GLib, GLibLog


@pytest.fixture
def context():
    """A main context of the test's own, pushed as the thread-default one."""
    context = GLib.MainContext.new()
    context.push_thread_default()
    yield context
    context.pop_thread_default()


@pytest.fixture
def service(context):
    """A service on the test's context, stopped at the end of the test."""
    service = Asab.TaskService()
    yield service
    # Ends what a failed test left behind, quickly, with its warnings captured.
    service.props.stop_timeout = 100
    service.stop()


@pytest.fixture
def events(service):
    return Events(service)


@pytest.fixture
def glib_log(capfd):
    return GLibLog(capfd)
