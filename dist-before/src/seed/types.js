/** The seed module's public shapes, apart so progress rendering and the writer share them without a cycle. */
export {};
//# sourceMappingURL=types.js.map