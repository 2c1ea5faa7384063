// The showcase: each section loads its kernel and wires its controls. Every timing and
// result the page shows is also kept in window.showcase, for scripts and tests.

import * as cryptoSection from "./crypto.js";
import * as imageSection from "./image.js";
import * as physicsSection from "./physics.js";
import * as videoSection from "./video.js";

const showcase = { errors: [], image: {}, physics: {}, crypto: {}, video: {}, ready: false };
window.showcase = showcase;

await Promise.all([
  imageSection.setup(showcase.image),
  physicsSection.setup(showcase.physics),
  cryptoSection.setup(showcase.crypto),
  videoSection.setup(showcase.video),
]);
showcase.ready = true;
document.body.dataset.ready = "true";
