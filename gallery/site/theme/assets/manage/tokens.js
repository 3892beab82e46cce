// @ts-check
// The token pair as every tab of the browser sees it at once. localStorage is each tab's own cached copy, and a
// write in one tab reaches the others a moment later: a tab that waited for another's refresh could still read the
// spent refresh token and spend it again (which ends every session). IndexedDB goes through the browser, so a pair
// written before the refresh lock is released is the pair the next holder of the lock reads.

/** @typedef {{token: string, refreshToken: string}} TokenPair */

const DATABASE = "gallery";
const STORE = "tokens";
const KEY = "pair";

/** @returns {Promise<IDBDatabase>} */
function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * @template T
 * @param {IDBTransactionMode} mode
 * @param {(store: IDBObjectStore) => IDBRequest<T>} act
 * @returns {Promise<T>} once the transaction has committed
 */
async function transact(mode, act) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const transaction = db.transaction(STORE, mode);
      const request = act(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  } finally {
    db.close();
  }
}

/** The pair last written, or null when there is none. @returns {Promise<TokenPair | null>} */
export async function readPair() {
  const pair = await transact("readonly", (store) => store.get(KEY));
  return pair && typeof pair.token === "string" && typeof pair.refreshToken === "string" ? pair : null;
}

/** @param {TokenPair | null} pair null to forget it @returns {Promise<void>} */
export async function writePair(pair) {
  if (pair) await transact("readwrite", (store) => store.put({ token: pair.token, refreshToken: pair.refreshToken }, KEY));
  else await transact("readwrite", (store) => store.delete(KEY));
}
