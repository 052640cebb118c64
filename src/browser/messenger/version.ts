/** The messenger's version: sent as the device's sdkVersion and shown as Parley.VERSION. */
export const VERSION = "1.1.0";
