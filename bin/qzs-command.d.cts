/** The launcher, bin/qzs.js. */
export declare const QZS: string;
/** node's flags on the launcher's #! line. */
export declare const NODE_FLAGS: readonly string[];
/** process.execPath's arguments before qzs's own: the flags, then the launcher. */
export declare const QZS_CMD: readonly string[];
