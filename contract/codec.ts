/**
 * How bodies travel: JSON, or MessagePack with the same fields (SPEC section
 * 1). Both sides build their msgpackr Packr from these options, so what one
 * writes the other reads.
 */
export const JSON_TYPE = 'application/json';
export const MSGPACK_TYPE = 'application/msgpack';
/** Content types read as MessagePack; the first is the one written. */
export const MSGPACK_TYPES = [MSGPACK_TYPE, 'application/x-msgpack', 'application/vnd.msgpack'] as const;

/**
 * useRecords: false keeps the output plain MessagePack any client can read;
 * maps become objects; 64-bit integers become numbers (every value of the
 * contract is below 2^53, and the schemas refuse larger ones).
 */
export const PACKR_OPTIONS = { useRecords: false, mapsAsObjects: true, int64AsType: 'number' } as const;
