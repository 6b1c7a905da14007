# conftest.py: fixtures for the Python tests of Asab.TaskService
#
# Copyright 2026 The asab-glib authors
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import asyncio
import importlib
import os
import sys

import pytest

from asabtest import Asab, Events, GLib, GLibLog


def pytest_sessionstart(session):
    """Fails at once when PyGObject loaded another copy of the override.

    PyGObject looks in its own gi/overrides folder before the PYTHONPATH:
    an override installed there would be tested instead of this tree's.
    """
    expected = os.environ.get('ASAB_OVERRIDES_DIR')
    loaded = getattr(sys.modules.get('gi.overrides.Asab'), '__file__', None)
    if expected is not None and (loaded is None or
                                 not os.path.realpath(loaded).startswith(
                                     os.path.realpath(expected) + os.sep)):
        pytest.exit('the Asab override in use is %s, not the one in %s: remove the installed '
                    'copy, or test with it' % (loaded, expected), returncode=1)


@pytest.fixture
def context():
    """A main context of the test's own, pushed as the thread-default one."""
    context = GLib.MainContext.new()
    context.push_thread_default()
    yield context
    context.pop_thread_default()


def _service_stopped_at_the_end():
    service = Asab.TaskService()
    yield service
    # Ends what a failed test left behind, quickly, with its warnings captured.
    service.props.stop_timeout = 100
    service.stop()


@pytest.fixture
def service(context):
    """A service on the test's context, stopped at the end of the test."""
    yield from _service_stopped_at_the_end()


@pytest.fixture
def events(service):
    return Events(service)


@pytest.fixture
def glib_log(capfd):
    return GLibLog(capfd)


def _gbulb_loop(context):
    gbulb = importlib.import_module('gbulb')
    asyncio.set_event_loop_policy(gbulb.GLibEventLoopPolicy())
    loop = gbulb.GLibEventLoop(context=context)
    asyncio.set_event_loop(loop)
    return loop


def _gi_events_loop(context):
    try:
        events = importlib.import_module('gi.events')
    except ImportError:
        pytest.skip('gi.events needs PyGObject 3.50 or later')
    policy = events.GLibEventLoopPolicy()
    asyncio.set_event_loop_policy(policy)
    # The loop of the thread-default context.
    return policy.get_event_loop()


# The asyncio-on-GLib event loops that the override supports.
EVENT_LOOPS = {
    'gbulb': _gbulb_loop,
    'gi.events': _gi_events_loop,
}


@pytest.fixture(params=sorted(EVENT_LOOPS))
def loop(request, context):
    """An asyncio event loop on the test's context, with the policy of its kind installed.

    Installing a policy is the program's business, not the override's: each
    test that runs coroutines installs one here, and removes it after.
    """
    loop = EVENT_LOOPS[request.param](context)
    yield loop
    asyncio.set_event_loop(None)
    asyncio.set_event_loop_policy(None)
    loop.close()


@pytest.fixture
def loop_service(loop, context):
    """A service on the test's context, on which loop runs, stopped at the end of the test."""
    yield from _service_stopped_at_the_end()


@pytest.fixture
def loop_events(loop_service):
    return Events(loop_service)
