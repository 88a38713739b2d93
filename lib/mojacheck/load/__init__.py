"""The load engine: Locust workers that are payer FSPs, the null hub, and the reconciler.

Floor: on ``fspiop`` and ``server`` only (never ``hub`` nor ``sim``: the engine must work against any hub). The
runner (``runner/load.py``) starts it as processes; a notebook kernel never imports it, because Locust
monkey-patches the interpreter with gevent when imported (that hangs a Jupyter kernel). Of its modules only
``locustfile``, ``payer`` and ``receiver`` import gevent/locust, and they run only inside Locust's processes;
``plan``, ``records``, ``nullhub`` and ``reconcile`` are plain asyncio/stdlib and may be imported by the runner.
"""
