// Returns nothing: the contract answers 204 No Content.
export default {
  fetch(_request: Request): undefined {
    return undefined;
  },
};
