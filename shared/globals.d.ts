// shared/ is compiled with lib ES2022 and no Node or DOM types, so that nothing platform-specific leaks in.
// TextDecoder/TextEncoder exist in every runtime we target (Node, Chromium, Electron); declare just their
// UTF-8 surface here rather than pulling in a whole platform's types.
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array): string;
}
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
