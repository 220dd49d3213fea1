//! `CheckParticipant`: the permissioned-transaction gate.
//!
//! Only active participants transact. The pool calls `validate` before it admits a transaction,
//! so a stranger's or a suspended member's extrinsic is turned away before it takes pool or block
//! space, with a specific `InvalidTransaction::Custom` code ([`crate::invalid`]).
//!
//! Members pay no fees, so spam is bounded instead by a quota: each participant may have
//! `MaxTxPerWindow` transactions included per `RateWindow` blocks. `validate` refuses once the
//! quota is used up on chain; block building refuses the surplus of a burst (it re-validates and
//! counts in `prepare`), so one member can never take more than its quota of block space. The
//! pool priority is the quota left on chain at validation. The pool does not count a member's
//! own pending transactions, so a backlog validated in one block shares one priority; as the
//! pool re-validates after each block, the priority of what is left falls, and a flooding
//! member's backlog sinks behind everyone else's. The hard bound is the quota, not the
//! priority. Governance can suspend a member that persists.

use crate::{invalid, Config, Pallet, Participants, Status, WeightInfo};
use codec::{Decode, DecodeWithMemTracking, Encode};
use core::marker::PhantomData;
use frame_support::{
	dispatch::DispatchInfo, pallet_prelude::TransactionSource, traits::Get, weights::Weight,
};
use scale_info::TypeInfo;
use sp_runtime::{
	traits::{
		AsSystemOriginSigner, DispatchInfoOf, Dispatchable, Implication, TransactionExtension,
		ValidateResult,
	},
	transaction_validity::{InvalidTransaction, TransactionValidityError, ValidTransaction},
};

#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Eq, PartialEq, TypeInfo)]
#[scale_info(skip_type_params(T))]
pub struct CheckParticipant<T: Config + Send + Sync>(PhantomData<T>);

impl<T: Config + Send + Sync> CheckParticipant<T> {
	pub fn new() -> Self {
		Self(PhantomData)
	}
}

impl<T: Config + Send + Sync> Default for CheckParticipant<T> {
	fn default() -> Self {
		Self::new()
	}
}

impl<T: Config + Send + Sync> core::fmt::Debug for CheckParticipant<T> {
	fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
		write!(f, "CheckParticipant")
	}
}

impl<T: Config + Send + Sync> CheckParticipant<T> {
	/// Transactions `who` may still have included this window, or why it may not transact.
	fn allowance(who: &T::AccountId) -> Result<u32, TransactionValidityError> {
		let p = Participants::<T>::get(who)
			.ok_or(InvalidTransaction::Custom(invalid::NOT_A_PARTICIPANT))?;
		if p.status != Status::Active {
			return Err(InvalidTransaction::Custom(invalid::SUSPENDED).into());
		}
		let left = T::MaxTxPerWindow::get().saturating_sub(Pallet::<T>::tx_used(who));
		if left == 0 {
			return Err(InvalidTransaction::Custom(invalid::RATE_LIMITED).into());
		}
		Ok(left)
	}
}

/// Whom `prepare` charges; `None` for unsigned (inherents and bare extrinsics).
pub type Val<T> = Option<<T as frame_system::Config>::AccountId>;

impl<T: Config + Send + Sync> TransactionExtension<T::RuntimeCall> for CheckParticipant<T>
where
	T::RuntimeCall: Dispatchable<Info = DispatchInfo>,
	<T::RuntimeCall as Dispatchable>::RuntimeOrigin: AsSystemOriginSigner<T::AccountId> + Clone,
{
	const IDENTIFIER: &'static str = "CheckParticipant";
	type Implicit = ();
	type Val = Val<T>;
	type Pre = ();

	fn weight(&self, _: &T::RuntimeCall) -> Weight {
		T::WeightInfo::check_participant()
	}

	fn validate(
		&self,
		origin: <T::RuntimeCall as Dispatchable>::RuntimeOrigin,
		_call: &T::RuntimeCall,
		_info: &DispatchInfoOf<T::RuntimeCall>,
		_len: usize,
		_self_implicit: (),
		_inherited_implication: &impl Implication,
		_source: TransactionSource,
	) -> ValidateResult<Self::Val, T::RuntimeCall> {
		let Some(who) = origin.as_system_origin_signer() else {
			return Ok((ValidTransaction::default(), None, origin));
		};
		let left = Self::allowance(who)?;
		let validity = ValidTransaction {
			priority: u64::from(left),
			..Default::default()
		};
		let who = who.clone();
		Ok((validity, Some(who), origin))
	}

	fn prepare(
		self,
		val: Self::Val,
		_origin: &<T::RuntimeCall as Dispatchable>::RuntimeOrigin,
		_call: &T::RuntimeCall,
		_info: &DispatchInfoOf<T::RuntimeCall>,
		_len: usize,
	) -> Result<Self::Pre, TransactionValidityError> {
		if let Some(who) = val {
			Pallet::<T>::note_tx(&who);
		}
		Ok(())
	}
}
