/**
 * @plumtree/swim/sans-io: SWIM without sockets or timers (the wire codec, the protocol core and
 * its config), for drivers that bring their own IO and clock, such as the simulator (libs/sim).
 */
export { createRng } from '@plumtree/common';
export {
  META_MAX_SIZE,
  SWIM_PRESETS,
  SwimConfig,
  SwimConfigError,
  resolveSwimConfig,
} from './config/swim-config.js';
export type {
  ResolvedSwimConfig,
  SwimConfigInput,
  SwimConfigProblem,
  SwimPresetName,
} from './config/swim-config.js';
export { formatIp, joinHostPort, parseIp, splitHostPort } from './protocol/address.js';
export type { SwimAddress } from './protocol/address.js';
export { pushPullScaleMs, retransmitLimit, suspicionTimeoutMs } from './protocol/formulas.js';
export { Suspicion } from './protocol/suspicion.js';
export { SwimCore } from './protocol/swim-core.js';
export type { SwimCoreOptions, SwimStats } from './protocol/swim-core.js';
// Every type of protocol/types.ts is public: the core's inputs, outputs and events.
export type * from './protocol/types.js';
export type { DecodeFailure, DecodeFailureReason, DecodeResult } from './wire/decode-result.js';
export { decryptPayload, encryptOverhead, encryptPayload } from './wire/encryption.js';
export { Keyring, KeyringError } from './wire/keyring.js';
export { LabelError, labelBytes } from './wire/label.js';
export { EncryptionVersion, MessageType, NodeStateType } from './wire/message-types.js';
export type {
  AckResp,
  Alive,
  Dead,
  ErrResp,
  IndirectPingReq,
  Message,
  NackResp,
  Ping,
  PushNodeState,
  Suspect,
} from './wire/messages.js';
