/**
 * Exit codes (CONTRACT section 5): 0 ok; 1 invalid spec or failed apply; 2 usage error;
 * 3 gateway unreachable or token refused.
 */
export const EXIT = Object.freeze({ OK: 0, FAILED: 1, USAGE: 2, UNREACHABLE: 3 });
