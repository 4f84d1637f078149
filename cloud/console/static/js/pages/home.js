// "/": a store's account goes to its store page (made for a phone), everyone else to the map.
import { run, start } from '../shell.js';

run(async () => {
  const who = await start();
  location.replace(who.store ? '/store' : '/map');
});
