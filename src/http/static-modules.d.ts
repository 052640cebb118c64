// The files src/cli/build-assets.ts writes into src/static/, as wrangler's default module rules
// type them.
declare module "*.txt" {
  const text: string;
  export default text;
}
declare module "*.bin" {
  const data: ArrayBuffer;
  export default data;
}
