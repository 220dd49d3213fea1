// A market session through polkadot-js against the real development node (issues #13, #14;
// FR-MP-FSM-01/03, FR-MP-MOMV-03/04, FR-MP-SET-01/02/04/06): the DSO (Alice) asks for
// flexibility on its feeder, an aggregator (Bob) lists a settlement mechanism, offers from a PoD
// it represents with that mechanism and declares the PoD's baseline, the chain clears at gate
// closure, the DSO validates the award green, and Bob reads his final result through the
// MarketApi runtime API. After delivery Alice settles the award and, once its dispute window
// has passed, makes it final; Bob reads the outcome through the SettlementApi. Bob also
// deploys a settlement mechanism written as a contract (the graded contract, built from source
// by platone-contracts), lists it and offers a second PoD under it without a baseline, so that
// the chain runs the contract to settle that award (FR-MP-SET-01/02). Prints
// `{"session": N, ...}` on stdout for the Rust side (tests/tests/market.rs) to audit.
//
//   node tests/js/market.mjs ws://127.0.0.1:PORT CONTRACT.wasm

import { readFileSync } from 'node:fs';
import { ApiPromise, Keyring, WsProvider } from '@polkadot/api';

const [url, wasmPath] = process.argv.slice(2);
if (!url || !wasmPath) {
  console.error('usage: node market.mjs ws://host:port CONTRACT.wasm');
  process.exit(2);
}

// Seconds since the start on every line: where the end-to-end test spends its time (issue #15).
const t0 = Date.now();
const log = (...args) =>
  console.error(`[market.mjs +${((Date.now() - t0) / 1000).toFixed(1)} s]`, ...args);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const api = await ApiPromise.create({ provider: new WsProvider(url), noInitWarn: true });
const keyring = new Keyring({ type: 'sr25519' });
const alice = keyring.addFromUri('//Alice'); // the dev chain's DSO
const bob = keyring.addFromUri('//Bob'); // an aggregator

// Signs and sends (with `nonce`, or the signer's next); resolves with the events once in a
// block and dispatched, rejects with the module error's name otherwise.
function send(tx, signer, nonce = -1) {
  return new Promise((resolve, reject) => {
    let unsubscribe = () => {};
    tx.signAndSend(signer, { nonce }, ({ status, dispatchError, events }) => {
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

// Sends each signer's transactions with consecutive nonces, all before the first is in a block,
// so that they share one block rather than take one each: resolves with each one's events.
async function sendAll(txs) {
  const next = new Map();
  const sent = [];
  for (const [tx, signer] of txs) {
    if (!next.has(signer.address)) {
      next.set(signer.address, (await api.rpc.system.accountNextIndex(signer.address)).toNumber());
    }
    const nonce = next.get(signer.address);
    next.set(signer.address, nonce + 1);
    sent.push(send(tx, signer, nonce));
  }
  return Promise.all(sent);
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
const bobs = pods
  .filter(([, p]) => p.unwrap().aggregator.toString() === bob.address)
  .map(([key]) => key.args[0].toNumber())
  .sort((a, b) => a - b);
if (bobs.length < 2) throw new Error(`Bob represents ${bobs.length} PoDs, the test needs two`);
const [pod, contractPod] = bobs;

// Bob's settlement mechanism: 5 % tolerance, half the value of a shortfall as penalty, a tenth
// of his net revenue to the PoD's owner (Permill). His second mechanism is a contract: deployed
// from its Wasm (an aggregator may; the call filter keeps everyone else from calling it), then
// listed with its gas limit.
const [created, instantiated] = await sendAll([
  [
    api.tx.settlement.createMechanism({
      Standard: { tolerance: 50_000, penalty: 500_000, customerShare: 100_000 },
    }),
    bob,
  ],
  [
    api.tx.contracts.instantiateWithCode(
      0,
      { refTime: 10_000_000_000, proofSize: 1 << 20 },
      null,
      // Hex: polkadot-js 16 encodes a Node Buffer as empty bytes.
      `0x${readFileSync(wasmPath).toString('hex')}`,
      '0x',
      '0x',
    ),
    bob,
  ],
]);
const mechanism = created
  .find(({ event }) => api.events.settlement.MechanismCreated.is(event))
  .event.data[0].toNumber();
const contract = instantiated
  .find(({ event }) => api.events.contracts.Instantiated.is(event))
  .event.data[1].toString();
const listed = await send(
  api.tx.settlement.createMechanism({ Contract: { contract, gas: 10_000_000_000 } }),
  bob,
);
const contractMechanism = listed
  .find(({ event }) => api.events.settlement.MechanismCreated.is(event))
  .event.data[0].toNumber();
log(`contract ${contract} listed as mechanism ${contractMechanism}`);

// A real-time session whose gate is far enough ahead for two blocks of transactions.
const session = await waitFor('an open real-time session', 180_000, async () => {
  const t = await now();
  for (const id of await api.query.market.live()) {
    const info = (await api.query.market.sessions(id)).unwrap();
    if (info.kind.isRealTime && info.phase.isOpen && info.gateClosureMs.toNumber() > t + 24_000) {
      return id.toNumber();
    }
  }
  return undefined;
});
log(`session ${session}, area ${area}, PoDs ${pod} and ${contractPod}`);

// In one block: the DSO's request; Bob's offers (80 tokens per MWh, a token being 10^12
// units; and 2 kW more from the other PoD at 90 tokens per MWh, pay-as-bid, to settle under
// the contract without a baseline: delivery cannot be shown, and the contract sets the
// penalty); and the first PoD's baseline for slot 0, 10 kW of net import (FR-MP-SET-04).
const offerOf = (events) =>
  events.find(({ event }) => api.events.market.OfferSubmitted.is(event)).event.data[1].toNumber();
const [, offered, offered2] = await sendAll([
  [
    api.tx.market.submitRequest(session, {
      area,
      direction: 'Up',
      maxPrice: 100_000_000_000_000,
      minQuantity: 0,
      quantities: [[0, 5_000]],
    }),
    alice,
  ],
  [
    api.tx.market.submitOffer(session, {
      pod,
      direction: 'Up',
      price: 80_000_000_000_000,
      minQuantity: 0,
      quantities: [[0, 3_000]],
    }),
    bob,
  ],
  [
    api.tx.market.submitOffer(session, {
      pod: contractPod,
      direction: 'Up',
      price: 90_000_000_000_000,
      minQuantity: 0,
      quantities: [[0, 2_000]],
    }),
    bob,
  ],
  [api.tx.settlement.declareBaseline(session, pod, [[0, 10_000]]), bob],
]);
// Then each offer's mechanism, in the next.
await sendAll([
  [api.tx.settlement.chooseMechanism(session, offerOf(offered), mechanism), bob],
  [api.tx.settlement.chooseMechanism(session, offerOf(offered2), contractMechanism), bob],
]);
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
if (awarded.length !== 2) throw new Error(`expected two awards for Bob, got ${awarded.length}`);
for (const a of awarded) log(`awarded ${a.quantity.toNumber()} W at ${a.award.price.toString()}`);

// Alice validates her feeder's awards: green.
await send(
  api.tx.market.validate(
    session,
    awarded.map((a) => [{ step: a.awardRef.step, index: a.awardRef.index }, 'Green']),
  ),
  alice,
);
await waitFor('the final results', 120_000, phaseIs('Final'));
const finals = await api.call.marketApi.results(session, bob.address);
const ofPod = (p) => finals.find((a) => a.pod.toNumber() === p);
const result = ofPod(pod);
const result2 = ofPod(contractPod);

// Settlement once the slot has passed (the test's genesis waives the metering delay): no
// meter data is on chain for the slot yet, so the first award settles as unmetered (the Rust
// side then certifies its meter's reads, and `platone settle` meters it, settles it again and
// makes it final), and the contract settles the second, which Alice makes final once its
// dispute window has passed.
const info = (await api.query.market.sessions(session)).unwrap();
const slotEnd = info.deliveryStartMs.toNumber() + info.slotMs.toNumber();
await waitFor('the end of slot 0', 120_000, async () => (await now()) >= slotEnd);
const refOf = (r) => ({ step: r.awardRef.step, index: r.awardRef.index });
const refs = [refOf(result), refOf(result2)];
await send(api.tx.settlement.settle(session, refs), alice);
await waitFor('the dispute window', 120_000, async () => {
  const status = (await api.query.settlement.outcomes(session, refs[1])).unwrap().status;
  return status.isOpen && status.asOpen.untilMs.toNumber() <= (await now());
});
await send(api.tx.settlement.finalize(session, [refs[1]]), alice);
const outcomes = await api.call.settlementApi.outcomes(session, bob.address);
const outcomeOf = (p) => outcomes.find(([, o]) => o.record.pod.toNumber() === p)[1];
const outcome = outcomeOf(pod);
const outcome2 = outcomeOf(contractPod);
log('settled', outcome.toString(), outcome2.toString());
const out = {
  session,
  pod,
  deliveryStartMs: info.deliveryStartMs.toNumber(),
  slotMs: info.slotMs.toNumber(),
  quantity: result.quantity.toNumber(),
  price: result.award.price.toNumber(),
  light: result.light.isSome ? result.light.unwrap().type : null,
  settlement: {
    basis: outcome.record.basis.type,
    status: outcome.status.type,
    mechanism: outcome.record.mechanism.isSome ? outcome.record.mechanism.unwrap().toNumber() : null,
    baseline: outcome.record.baselineW.isSome ? outcome.record.baselineW.unwrap().toNumber() : null,
  },
  contract: {
    quantity: result2.quantity.toNumber(),
    basis: outcome2.record.basis.type,
    status: outcome2.status.type,
    mechanism: outcome2.record.mechanism.isSome ? outcome2.record.mechanism.unwrap().toNumber() : null,
    awardValue: outcome2.record.input.awardValue.toString(),
    payment: outcome2.record.split.payment.toString(),
    penalty: outcome2.record.split.penalty.toString(),
  },
};
log('final', JSON.stringify(out));
console.log(JSON.stringify(out));
await api.disconnect();
process.exit(0);
