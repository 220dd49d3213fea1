// A market session through polkadot-js against the real development node (issues #13, #14;
// FR-MP-FSM-01/03, FR-MP-MOMV-03/04, FR-MP-SET-01/02/04/06): the DSO (Alice) asks for
// flexibility on its feeder, an aggregator (Bob) lists a settlement mechanism, offers from a PoD
// it represents with that mechanism and declares the PoD's baseline, the chain clears at gate
// closure, the DSO validates the award green, and Bob reads his final result through the
// MarketApi runtime API. After delivery Alice settles the award and, once its dispute window
// has passed, makes it final; Bob reads the outcome through the SettlementApi. Prints
// `{"session": N, ...}` on stdout for the Rust side (tests/tests/market.rs) to audit.
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

// Bob's settlement mechanism: 5 % tolerance, half the value of a shortfall as penalty, a tenth
// of his net revenue to the PoD's owner (Permill).
const created = await send(
  api.tx.settlement.createMechanism({
    Standard: { tolerance: 50_000, penalty: 500_000, customerShare: 100_000 },
  }),
  bob,
);
const mechanism = created
  .find(({ event }) => api.events.settlement.MechanismCreated.is(event))
  .event.data[0].toNumber();

// A real-time session whose gate is far enough ahead for four transactions.
const session = await waitFor('an open real-time session', 180_000, async () => {
  const t = await now();
  for (const id of await api.query.market.live()) {
    const info = (await api.query.market.sessions(id)).unwrap();
    if (info.kind.isRealTime && info.phase.isOpen && info.gateClosureMs.toNumber() > t + 40_000) {
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
const offered = await send(
  api.tx.market.submitOffer(session, {
    pod,
    direction: 'Up',
    price: 80_000,
    minQuantity: 0,
    quantities: [[0, 3_000]],
  }),
  bob,
);
const offer = offered
  .find(({ event }) => api.events.market.OfferSubmitted.is(event))
  .event.data[1].toNumber();
await send(api.tx.settlement.chooseMechanism(session, offer, mechanism), bob);
// The PoD's baseline for slot 0: 10 kW of net import (FR-MP-SET-04).
await send(api.tx.settlement.declareBaseline(session, pod, [[0, 10_000]]), bob);
log('request, offer, mechanism and baseline in');

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

// Settlement once the slot has passed (the test's genesis waives the metering delay): no
// meter data was certified for the slot, so the award settles as unmetered, and nothing
// moves once its dispute window has passed.
const info = (await api.query.market.sessions(session)).unwrap();
const slotEnd = info.deliveryStartMs.toNumber() + info.slotMs.toNumber();
await waitFor('the end of slot 0', 120_000, async () => (await now()) >= slotEnd);
const awardRef = { step: result.awardRef.step, index: result.awardRef.index };
await send(api.tx.settlement.settle(session, [awardRef]), alice);
await waitFor('the dispute window', 120_000, async () => {
  const status = (await api.query.settlement.outcomes(session, awardRef)).unwrap().status;
  return status.isOpen && status.asOpen.untilMs.toNumber() <= (await now());
});
await send(api.tx.settlement.finalize(session, [awardRef]), alice);
const [[, outcome]] = await api.call.settlementApi.outcomes(session, bob.address);
log('settled', outcome.toString());
const out = {
  session,
  pod,
  quantity: result.quantity.toNumber(),
  price: result.award.price.toNumber(),
  light: result.light.isSome ? result.light.unwrap().type : null,
  settlement: {
    basis: outcome.record.basis.type,
    status: outcome.status.type,
    mechanism: outcome.record.mechanism.isSome ? outcome.record.mechanism.unwrap().toNumber() : null,
    baseline: outcome.record.baselineW.isSome ? outcome.record.baselineW.unwrap().toNumber() : null,
  },
};
log('final', JSON.stringify(out));
console.log(JSON.stringify(out));
await api.disconnect();
process.exit(0);
