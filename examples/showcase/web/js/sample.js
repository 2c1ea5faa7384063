// A sample picture drawn in a canvas, so the page (and its tests) need no image file.

/** An ImageData of a 768x512 landscape: sky, sun, hills, a checkerboard and text. */
export function samplePicture(width = 768, height = 512) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");

  const sky = ctx.createLinearGradient(0, 0, 0, height);
  sky.addColorStop(0, "#1d4e89");
  sky.addColorStop(0.6, "#f4a261");
  sky.addColorStop(1, "#e76f51");
  ctx.fillStyle = sky;
  ctx.fillRect(0, 0, width, height);

  ctx.fillStyle = "#ffd166";
  ctx.beginPath();
  ctx.arc(width * 0.72, height * 0.38, height * 0.14, 0, 2 * Math.PI);
  ctx.fill();

  hill(ctx, width, height, 0.62, 0.08, "#2a9d8f");
  hill(ctx, width, height, 0.74, 0.05, "#264653");

  // Fine detail that shows what blur and resize do.
  const cell = 8;
  for (let y = 0; y < 6; y++) {
    for (let x = 0; x < 16; x++) {
      ctx.fillStyle = (x + y) % 2 ? "#ffffff" : "#111111";
      ctx.fillRect(24 + x * cell, 24 + y * cell, cell, cell);
    }
  }
  ctx.fillStyle = "#ffffff";
  ctx.font = "bold 44px sans-serif";
  ctx.fillText("wasmbridge", 24, height - 32);
  return ctx.getImageData(0, 0, width, height);
}

function hill(ctx, width, height, level, amplitude, colour) {
  ctx.fillStyle = colour;
  ctx.beginPath();
  ctx.moveTo(0, height);
  for (let x = 0; x <= width; x += 8) {
    const wave = Math.sin((x / width) * 2 * Math.PI * 1.5 + level * 10);
    ctx.lineTo(x, height * (level + amplitude * wave));
  }
  ctx.lineTo(width, height);
  ctx.closePath();
  ctx.fill();
}
