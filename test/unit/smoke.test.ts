import t from 'tap';
import { ERRORS } from '../../src/errors.ts';
t.test('catalogue has no_route', async (t) => { t.equal(ERRORS.NO_ROUTE.status, 404); });
t.test('second', async (t) => { t.equal(1, 1); });
