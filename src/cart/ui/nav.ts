/** Navigation between the screens: the route lives in the location hash (#/library, #/session …). */
export const go = (...parts: string[]) => {
  location.hash = `#/${parts.map(encodeURIComponent).join('/')}`;
};
