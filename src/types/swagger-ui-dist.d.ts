// swagger-ui-dist ships no types. Its absolute-path.js is imported alone: the package's index.js would
// load the 1.5 MB browser bundle into Node for nothing.
declare module 'swagger-ui-dist/absolute-path.js' {
  /** The folder holding Swagger UI's browser files. */
  const getAbsoluteFSPath: () => string;
  export default getAbsoluteFSPath;
}
