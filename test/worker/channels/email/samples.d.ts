/** The sample replies, imported as their raw text (Vite's `?raw`). */
declare module "*.eml?raw" {
  const text: string;
  export default text;
}
