import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT } from '../../vfs/waiter.js';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLPRI, POLLRDNORM, POLLWRNORM, eventsToAsk, revents } from './sys_poll.js';

test('eventsToAsk maps the NORM spellings and always asks for errors and hangups', () => {
  assert.equal(eventsToAsk(POLLRDNORM), EVENT_IN | EVENT_ERR | EVENT_HUP);
  assert.equal(eventsToAsk(POLLWRNORM), EVENT_OUT | EVENT_ERR | EVENT_HUP);
  assert.equal(eventsToAsk(0), EVENT_ERR | EVENT_HUP);
});

test('revents reports only what was asked, plus errors and hangups', () => {
  assert.equal(revents(POLLIN, EVENT_IN | EVENT_OUT), POLLIN);
  assert.equal(revents(POLLRDNORM, EVENT_IN), POLLRDNORM);
  assert.equal(revents(POLLIN | POLLRDNORM, EVENT_IN), POLLIN | POLLRDNORM);
  assert.equal(revents(POLLOUT | POLLWRNORM, EVENT_OUT), POLLOUT | POLLWRNORM);
  assert.equal(revents(0, EVENT_HUP | EVENT_IN), POLLHUP);
  assert.equal(revents(POLLPRI, EVENT_ERR | EVENT_OUT), POLLERR);
});
