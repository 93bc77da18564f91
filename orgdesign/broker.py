"""kombu's Redis transport, with a channel that still closes when Redis is gone.

When the worker loses its broker, Celery 5.7 closes the connection twice: ``collect()``
closes the channels and detaches the transport, then ``close()`` closes them again. kombu's
``Channel.close()`` first reads the reply of the BRPOP it has pending; with Redis gone that
read raises, and the close stops there, before the channel is marked closed. The second
close then requeues the unacknowledged messages through the detached transport, raises
``AttributeError: 'NoneType' object has no attribute 'hostname'``, and the worker exits.
"""

from queue import Empty

from kombu.transport import redis


class Channel(redis.Channel):
    def close(self):
        if self._in_poll:
            # Read (or, with the connection gone, drop) the pending BRPOP reply so the
            # close always runs to the end; the base close then has nothing to read.
            self._closing = True
            try:
                self._brpop_read()
            except (Empty, *self.connection_errors):
                pass
        super().close()


class Transport(redis.Transport):
    Channel = Channel
