(function(){
const data=JSON.parse(document.getElementById('sigap-map-data').textContent);
const svg=document.getElementById('map');const panel=document.getElementById('panel');
const cfg=(document.getElementById('peta')||document.body).dataset;
const live=cfg.live||'';const devUrl=cfg.deviceUrl||'';const tixUrl=cfg.ticketUrl||'';
const LABEL=%LABELS%;
let vb=svg.viewBox.baseVal;const home=[vb.x,vb.y,vb.width,vb.height];
function setVb(x,y,w,h){svg.setAttribute('viewBox',[x,y,w,h].join(' '));vb=svg.viewBox.baseVal;}
function zoom(f,cx,cy){const w=vb.width*f,h=vb.height*f;cx=cx===undefined?vb.x+vb.width/2:cx;cy=cy===undefined?vb.y+vb.height/2:cy;
 setVb(cx-(cx-vb.x)*f,cy-(cy-vb.y)*f,w,h);}
function pt(e){const r=svg.getBoundingClientRect();return [vb.x+(e.clientX-r.left)/r.width*vb.width,vb.y+(e.clientY-r.top)/r.height*vb.height];}
svg.addEventListener('wheel',e=>{e.preventDefault();const p=pt(e);zoom(e.deltaY>0?1.2:1/1.2,p[0],p[1]);},{passive:false});
const ptrs=new Map();let pinch=0;
// capture the pointer only once it drags (a few px): a capture at pointerdown would take
// the click away from the node under a tap, and the detail panel would never open
const starts=new Map();
svg.addEventListener('pointerdown',e=>{ptrs.set(e.pointerId,[e.clientX,e.clientY]);starts.set(e.pointerId,[e.clientX,e.clientY]);});
svg.addEventListener('pointermove',e=>{if(!ptrs.has(e.pointerId))return;const prev=ptrs.get(e.pointerId);const s0=starts.get(e.pointerId);
 if(s0&&!svg.hasPointerCapture(e.pointerId)&&Math.hypot(e.clientX-s0[0],e.clientY-s0[1])>4)svg.setPointerCapture(e.pointerId);ptrs.set(e.pointerId,[e.clientX,e.clientY]);
 const r=svg.getBoundingClientRect();
 if(ptrs.size===1){setVb(vb.x-(e.clientX-prev[0])/r.width*vb.width,vb.y-(e.clientY-prev[1])/r.height*vb.height,vb.width,vb.height);}
 else if(ptrs.size===2){const [a,b]=[...ptrs.values()];const d=Math.hypot(a[0]-b[0],a[1]-b[1]);if(pinch)zoom(pinch/d);pinch=d;}});
function up(e){ptrs.delete(e.pointerId);starts.delete(e.pointerId);if(ptrs.size<2)pinch=0;}
svg.addEventListener('pointerup',up);svg.addEventListener('pointercancel',up);
document.getElementById('zin').onclick=()=>zoom(1/1.3);document.getElementById('zout').onclick=()=>zoom(1.3);
document.getElementById('zhome').onclick=()=>setVb(...home);
function esc(s){return String(s).replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));}
function show(id){const n=data.nodes.find(n=>n.id===id);if(!n)return;
 let h='<h2>'+esc(n.id)+' <small>('+esc(LABEL[n.state])+')</small></h2><div>'+esc(n.address)+' &middot; '+esc(n.opd)+' &middot; '+esc(n.site)+'</div>';
 if(devUrl)h+='<div><a href="'+esc(devUrl.replace('{name}',encodeURIComponent(n.id)))+'">Buka perangkat dan tiketnya</a></div>';
 const num=t=>tixUrl?'<a href="'+esc(tixUrl.replace('{number}',t.number))+'">'+esc(t.number)+'</a>':esc(t.number);
 h+=n.tickets.length?'<ul>'+n.tickets.map(t=>'<li><b>'+num(t)+'</b> '+esc(t.summary)+' ('+esc(t.status)+')</li>').join('')+'</ul>':'<div>Tidak ada tiket terbuka.</div>';
 panel.innerHTML=h;}
function hook(){document.querySelectorAll('[data-device]').forEach(el=>{el.onclick=ev=>{if(el.tagName==='A'&&!devUrl)ev.preventDefault();show(el.dataset.device);};});}
function apply(d){data.nodes=d.nodes;data.links=d.links;
 d.nodes.forEach(n=>{document.querySelectorAll('[data-device="'+CSS.escape(n.id)+'"]').forEach(el=>{el.setAttribute('class',el.getAttribute('class').replace(/st-[a-z]+/,'st-'+n.state));el.dataset.state=n.state;});
  const b=document.querySelector('g.node[data-device="'+CSS.escape(n.id)+'"] .badges');if(b){b.style.display=n.tickets.length?'':'none';b.querySelector('text').textContent=n.tickets.length;}});
 d.links.forEach((l,i)=>{const el=document.getElementById('link-'+i);if(el)el.setAttribute('class','link st-'+l.state);});
 Object.entries(d.counts).forEach(([k,v])=>{const el=document.getElementById('count-'+k);if(el)el.textContent=v;});
 const g=document.getElementById('generated');if(g&&d.generated_at)g.textContent=d.generated_at.replace('T',' ').slice(0,19);}
window.sigapMapUpdate=apply;hook();
if(live){setInterval(()=>fetch(live,{headers:{'Accept':'application/json'}}).then(r=>r.ok?r.json():null).then(d=>{if(d)apply(d);}).catch(()=>{}),10000);}
})();
