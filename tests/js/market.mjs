// A market session through polkadot-js against the real development node (issue #13;
// FR-MP-FSM-01/03, FR-MP-MOMV-03/04): the council shortens the real-time schedule, the DSO
// (Alice) asks for flexibility on its feeder, an aggregator (Bob) offers from a PoD it
// represents, the chain clears at gate closure, the DSO validates the award green, and Bob reads
// his final result through the MarketApi runtime API. Prints `{"session": N, ...}` on stdout
// for the Rust side (tests/tests/market.rs) to audit.
//
//   node tests/js/market.mjs ws://127.0.0.1:PORT

import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';

const url = process.argv[2];
if (!url) {
  console.error('usage: node market.mjs ws://host:port');
  process.exit(2);
}

const log = (...args) => console.error('[market.mjs]', ...args);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const api = await ApiPromise.create({ provider: new WsProvider(url), noInitWarn: true });
const keyring = new Keyring({ type: 'sr25519' });
const alice = keyring.addFromUri('//Alice'); // the dev chain's DSO
const bob = keyring.addFromUri('//Bob'); // an aggregator

// Signs and sends; resolves with the events once in a block and dispatched, rejects with the
// module error's name otherwise.
function send(tx, signer) {
  return new Promise((resolve, reject) => {
    let unsubscribe = () => {};
    tx.signAndSend(signer, ({ status, dispatchError, events }) => {
      const fail = (e) => {
        unsubscribe();
        reject(e);
      };
      if (dispatchError) {
        if (dispatchError.isModule) {
          const d = api.registry.findMetaError(dispatchError.asModule);
          return fail(new Error(`${d.section}.${d.name}`));
        }
        return fail(new Error(dispatchError.toString()));
      }
      if (status.isInBlock) {
        unsubscribe();
        resolve(events);
      }
    })
      .then((u) => {
        unsubscribe = u;
      })
      .catch(reject);
  });
}

const now = async () => (await api.query.timestamp.now()).toNumber();

async function waitFor(what, timeoutMs, probe) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(1000);
  }
}

// Registry lookups: Alice's feeder and a PoD Bob represents.
const areas = await api.query.registry.areas.entries();
const feeder = areas.find(([, a]) => a.unwrap().code.toUtf8() === 'DEV-F1');
const area = feeder[0].args[0].toNumber();
const pods = await api.query.registry.pods.entries();
const bobs = pods.find(([, p]) => p.unwrap().aggregator.toString() === bob.address);
const pod = bobs[0].args[0].toNumber();

// A real-time session whose gate is far enough ahead for two transactions.
const session = await waitFor('an open real-time session', 180_000, async () => {
  const t = await now();
  for (const id of await api.query.market.live()) {
    const info = (await api.query.market.sessions(id)).unwrap();
    if (info.kind.isRealTime && info.phase.isOpen && info.gateClosureMs.toNumber() > t + 20_000) {
      return id.toNumber();
    }
  }
  return undefined;
});
log(`session ${session}, area ${area}, PoD ${pod}`);

await send(
  api.tx.market.submitRequest(session, {
    area,
    direction: 'Up',
    maxPrice: 120_000,
    minQuantity: 0,
    quantities: [[0, 5_000]],
  }),
  alice,
);
await send(
  api.tx.market.submitOffer(session, {
    pod,
    direction: 'Up',
    price: 80_000,
    minQuantity: 0,
    quantities: [[0, 3_000]],
  }),
  bob,
);
log('request and offer in');

// Gate closure, then clearing.
let seen = '';
const phaseIs = (want) => async () => {
  const phase = (await api.query.market.sessions(session)).unwrap().phase;
  if (phase.type !== seen) {
    seen = phase.type;
    log(`session ${session}: ${phase.toString()} at ${await now()}`);
  }
  return phase.type === want;
};
await waitFor('the clearing', 180_000, phaseIs('Cleared'));
const awarded = await api.call.marketApi.results(session, bob.address);
if (awarded.length !== 1) throw new Error(`expected one award for Bob, got ${awarded.length}`);
const award = awarded[0];
log(`awarded ${award.quantity.toNumber()} W at ${award.award.price.toNumber()}`);

// Alice validates her feeder's award: green.
await send(
  api.tx.market.validate(session, [[{ step: award.awardRef.step, index: award.awardRef.index }, 'Green']]),
  alice,
);
await waitFor('the final results', 120_000, phaseIs('Final'));
const [result] = await api.call.marketApi.results(session, bob.address);
const out = {
  session,
  pod,
  quantity: result.quantity.toNumber(),
  price: result.award.price.toNumber(),
  light: result.light.isSome ? result.light.unwrap().type : null,
};
log('final', JSON.stringify(out));
console.log(JSON.stringify(out));
await api.disconnect();
process.exit(0);
